"""Mixpanel's domain errors carry no HTTP status; each surface maps them in one table."""
import inspect

import pytest
import requests

from mocks.common import Clock, ServerThread
from mocks.mixpanel import api, control, create_app, errors

ERROR_CLASSES = [cls for _, cls in inspect.getmembers(errors, inspect.isclass)
                 if issubclass(cls, errors.MixpanelError) and cls is not errors.MixpanelError]


def test_every_error_is_mapped_by_exactly_one_surface_and_none_carries_a_status():
    vendor = set(api.IMPORT_STATUS) | set(api.TOKEN_STATUS)
    for cls in ERROR_CLASSES:
        assert (cls in control.STATUS) != (cls in vendor), cls.__name__
        assert "status" not in inspect.signature(cls).parameters and not hasattr(cls, "status"), cls.__name__


def test_lookups_are_plain_domain_errors_and_the_cohort_sync_asks_find_instead():
    for cls in (errors.ProjectNotFound, errors.CohortNotFound):
        assert issubclass(cls, errors.MixpanelError) and not issubclass(cls, LookupError)
    store = create_app(clock=Clock()).extensions["harness"].store
    assert store.find_project(999) is None and store.find_project(True) is None
    assert str(errors.ProjectNotFound(7)) == "no project 7"
    assert str(errors.CohortNotFound(3, 7)) == "no cohort 3 in project 7"


@pytest.fixture(scope="module")
def url():
    with ServerThread(create_app(clock=Clock())) as server:
        yield server.url


@pytest.mark.parametrize("method, path, body, status, message", [
    ("get", "/_harness/projects/999", None, 404, "no project 999"),
    ("get", "/_harness/projects/1/cohorts/999", None, 404, "no cohort 999 in project 1"),
    ("post", "/_harness/projects", {"name": "b", "token": "tok-aaaa1111"}, 409,
     "token and api_secret must be unique across projects"),
    ("post", "/_harness/projects/1/cohorts", {"name": "c", "definition": {"event": "E", "at_least": 3, "at_most": 2}},
     400, "invalid cohort definition at $: 'at_most' (2) is below 'at_least' (3)"),
])
def test_the_control_plane_table_gives_status_and_exact_text(url, method, path, body, status, message):
    requests.post(url + "/_harness/projects", json={"name": "a", "token": "tok-aaaa1111"}, timeout=10)
    reply = getattr(requests, method)(url + path, json=body, timeout=10)
    assert (reply.status_code, reply.json()) == (status, {"error": message})


def test_the_import_table_gives_status_and_exact_text(url):
    reply = requests.post(url + "/import", json=[{"event": "E"}], auth=("nobody", ""), timeout=10)
    assert (reply.status_code, reply.json()) == (401, {"code": 401, "error": "Invalid credentials",
                                                        "status": "Unauthorized"})
    reply = requests.post(url + "/track", data={"data": '[{"event": "E", "properties": {"token": "nope"}}]',
                                                "verbose": "1"}, timeout=10)
    assert (reply.status_code, reply.json()) == (401, {"error": "token, not a valid project token", "status": 0})
