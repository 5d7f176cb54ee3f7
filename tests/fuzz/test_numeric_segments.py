"""Seed of the issue-12 fuzz suite: hostile numbers in Mixpanel control-plane segments and query limits.

Drives the Flask app in-process (the loopback-HTTP suite over every route is still to be written); asserts
status < 500 and strict JSON bodies.
"""
from __future__ import annotations

import json
from urllib.parse import quote

from hypothesis import given, settings, strategies as st

from mocks.common import Clock
from mocks.mixpanel import create_app

_APP = create_app(clock=Clock())
_NUMBERISH = st.one_of(st.text(max_size=40), st.integers().map(str), st.just("²"), st.just("9" * 5000),
                       st.text(alphabet="0123456789²³¹٠١", min_size=1, max_size=30))


def _strict(text: str) -> object:
    def refuse(name: str) -> object:
        raise ValueError(f"non-JSON constant {name}")
    return json.loads(text, parse_constant=refuse)


@settings(max_examples=200, deadline=None)
@given(_NUMBERISH)
def test_numeric_segments_never_500(value: str) -> None:
    api = _APP.test_client()
    for path in (f"/_harness/projects/{quote(value, safe='')}/stats", f"/_harness/journal?limit={quote(value)}"):
        reply = api.get(path)
        assert reply.status_code < 500, (path, reply.status_code)
        if reply.mimetype == "application/json":
            _strict(reply.get_data(as_text=True))
