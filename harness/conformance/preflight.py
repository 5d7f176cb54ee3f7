"""Preflight: before any scenario runs, probe every call the selected scenarios need on each vendor
target, and stop with one list of what is missing (method, path, which features need it).

Without it a vendor learns which endpoints to build by trial: one missing control-plane call fails
every scenario that uses it, each failure the same. The calls each feature makes are listed here
(``FEATURE_CALLS``, kept in step with the steps and checked against the embedded mocks by
tests/harness/conformance/test_preflight.py); a probe sends the call with placeholder ids and an empty
JSON object, so it creates nothing a scenario would see.

A call is *missing* when the target answers 405 or 501, or 404 with a body that is not a JSON object
(a framework's page for an unknown path) or with the mocks' ``{"error": "no such endpoint: ..."}``.
Any other answer (a 400 for the empty body, a 401 for missing credentials, a 404 JSON error for the
placeholder id) shows the route exists. This is the choice written down in docs/conformance.md.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import requests

BRAZE, MIXPANEL = "braze", "mixpanel"
PLACEHOLDER = "preflight-probe"
MISSING_STATUSES = frozenset({405, 501})
NO_SUCH_ENDPOINT = "no such endpoint"


@dataclass(frozen=True, order=True)
class Call:
    """One HTTP call a step makes: ``{id}`` in the path stands for any id."""

    service: str
    method: str
    path: str

    def probe_path(self) -> str:
        return self.path.replace("{id}", PLACEHOLDER)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _calls(service: str, *specs: str) -> frozenset[Call]:
    return frozenset(Call(service, *spec.split(" ", 1)) for spec in specs)


_B, _M = BRAZE, MIXPANEL
#: Every scenario: the journals, and a Braze workspace with a data import key (Background).
EVERY_SCENARIO = _calls(_B, "DELETE /_harness/journal", "GET /_harness/journal", "POST /_harness/workspaces",
                        "POST /_harness/workspaces/{id}/data_import_keys", "GET /_harness/partners") | _calls(
    _M, "DELETE /_harness/journal", "GET /_harness/journal")
#: An export from a Mixpanel project to the Braze workspace, checked on the Braze side.
EXPORTING = _calls(_B, "POST /users/track", "GET /_harness/workspaces/{id}/users", "GET /_harness/workspaces/{id}/cohorts",
                   "GET /_harness/workspaces/{id}/cohorts/mixpanel/{id}/members",
                   "POST /partners/mixpanel/cohorts", "POST /partners/mixpanel/cohorts/users") | _calls(
    _M, "POST /_harness/projects", "POST /engage", "GET /_harness/clock", "POST /_harness/projects/{id}/cohorts",
    "GET /_harness/projects/{id}/cohorts/{id}/members", "POST /_harness/projects/{id}/connections",
    "POST /_harness/projects/{id}/exports", "GET /_harness/projects/{id}/exports/{id}",
    "POST /_harness/projects/{id}/exports/{id}/stop")
CLOCK = _calls(_B, "POST /_harness/clock") | _calls(_M, "POST /_harness/clock")

FEATURE_CALLS: dict[str, frozenset[Call]] = {
    "partner_api.feature": _calls(_B, "POST /partners/mixpanel/cohorts", "POST /partners/mixpanel/cohorts/users",
                                  "POST /users/track", "GET /_harness/workspaces/{id}/users",
                                  "GET /_harness/workspaces/{id}/cohorts",
                                  "GET /_harness/workspaces/{id}/cohorts/mixpanel/{id}/members"),
    "matching.feature": EXPORTING | _calls(_B, "POST /users/alias/new", "POST /_harness/workspaces/{id}/sdk/users",
                                           "POST /_harness/workspaces/{id}/sdk/change_user",
                                           "GET /_harness/workspaces/{id}/cohorts/mixpanel/{id}/match_log") | _calls(
        _M, "PATCH /_harness/projects/{id}/connections/{id}"),
    "sync.feature": EXPORTING | CLOCK | _calls(_M, "PATCH /_harness/projects/{id}/cohorts/{id}",
                                               "GET /_harness/projects/{id}/exports",
                                               "POST /_harness/projects/{id}/exports/{id}/resume",
                                               "POST /_harness/projects/{id}/exports/{id}/run"),
    "retention.feature": EXPORTING | _calls(_M, "POST /import", "GET /_harness/projects/{id}/stats") | CLOCK,
    "keys_and_connection.feature": EXPORTING | CLOCK | _calls(
        _B, "GET /_harness/workspaces/{id}/data_import_keys", "DELETE /_harness/workspaces/{id}/data_import_keys/{id}")
    | _calls(_M, "GET /_harness/projects/{id}/connections", "PATCH /_harness/projects/{id}/connections/{id}",
             "POST /_harness/projects/{id}/exports/{id}/resume"),
    "segments_and_targeting.feature": EXPORTING | CLOCK | _calls(
        _B, "POST /_harness/workspaces/{id}/segments", "GET /_harness/workspaces/{id}/segments/{id}/users",
        "POST /_harness/workspaces/{id}/campaigns", "POST /_harness/workspaces/{id}/canvases",
        "GET /_harness/workspaces/{id}/campaigns/{id}/audience",
        "GET /_harness/workspaces/{id}/canvases/{id}/audience") | _calls(
        _M, "PATCH /_harness/projects/{id}/cohorts/{id}"),
    "data_points.feature": EXPORTING | CLOCK | _calls(_B, "GET /_harness/workspaces/{id}/data_points"),
    "failures.feature": EXPORTING | CLOCK | _calls(_B, "POST /_harness/faults", "DELETE /_harness/faults/{id}")
    | _calls(_M, "POST /_harness/projects/{id}/exports/{id}/resume",
             "POST /_harness/projects/{id}/exports/{id}/stop"),
}


#: With the receiver's credentials on the command line (``--data-import-key`` ...), nothing of its
#: control plane is created: what the partner-API scenarios need is its vendor API and the minimal
#: observation surface, the cohort listing (names) and members. The other features still need theirs.
MINIMAL_FEATURE_CALLS: dict[str, frozenset[Call]] = {
    "partner_api.feature": _calls(_B, "POST /partners/mixpanel/cohorts", "POST /partners/mixpanel/cohorts/users",
                                  "POST /users/track", "GET /_harness/workspaces/{id}/cohorts",
                                  "GET /_harness/workspaces/{id}/cohorts/mixpanel/{id}/members"),
}
#: The Braze calls of every scenario that given credentials replace (workspace, key, partners, journal).
GIVEN_BY_CREDENTIALS = frozenset(c for c in EVERY_SCENARIO if c.service == BRAZE)


@dataclass(frozen=True)
class MissingCall:
    call: Call
    features: tuple[str, ...]
    answer: str


def needed_calls(features: Iterable[str], service: str, minimal: bool = False) -> dict[Call, list[str]]:
    """The calls of ``service`` that the given feature files need, each with the features needing it;
    ``minimal``: the Braze receiver's credentials were given (MINIMAL_FEATURE_CALLS)."""
    needed: dict[Call, list[str]] = {}
    every = EVERY_SCENARIO - GIVEN_BY_CREDENTIALS if minimal else EVERY_SCENARIO
    for feature in sorted(set(features)):
        calls = (MINIMAL_FEATURE_CALLS if minimal else {}).get(feature) or FEATURE_CALLS.get(feature, frozenset())
        for call in every | calls:
            if call.service == service:
                needed.setdefault(call, []).append(feature)
    return needed


def is_missing(status: int, body: object) -> bool:
    if status in MISSING_STATUSES:
        return True
    if status != 404:
        return False
    if not isinstance(body, dict):
        return True
    return str(body.get("error", "")).startswith(NO_SUCH_ENDPOINT)


def probe(base_url: str, call: Call, session: requests.Session, timeout: float = 5.0) -> tuple[bool, str]:
    """``(missing, what the target answered)`` for one call."""
    response = session.request(call.method, base_url.rstrip("/") + call.probe_path(),
                               json={} if call.method in ("POST", "PUT", "PATCH") else None, timeout=timeout)
    try:
        body: object = response.json()
    except ValueError:
        body = None
    return is_missing(response.status_code, body), str(response.status_code)


def missing_calls(base_url: str, service: str, features: Iterable[str], minimal: bool = False) -> list[MissingCall]:
    """Every call the features need that the target at ``base_url`` does not offer."""
    found = []
    with requests.Session() as session:
        for call, needing in sorted(needed_calls(features, service, minimal).items()):
            missing, answer = probe(base_url, call, session)
            if missing:
                found.append(MissingCall(call, tuple(needing), answer))
    return found


def describe(missing: dict[str, list[MissingCall]], scenarios: Mapping[str, int]) -> str:
    """One list for the vendor: per target, each missing call and the features (with how many of
    the selected scenarios) that need it."""
    lines = ["preflight: the targets lack calls the selected scenarios need (no scenario was run):"]
    for target, calls in missing.items():
        for entry in calls:
            needing = ", ".join(f"{f.removesuffix('.feature')} ({scenarios.get(f, 0)} scenarios)" for f in entry.features)
            lines.append(f"  {target}: {entry.call.method} {entry.call.path} (answered {entry.answer}); "
                         f"needed by {needing}")
    return "\n".join(lines)


# -- the matrix of docs/conformance.md, generated from FEATURE_CALLS ----------------------------------
MATRIX_START, MATRIX_END = "<!-- feature-call matrix: start -->", "<!-- feature-call matrix: end -->"
SERVICE_NAMES = {BRAZE: "Braze", MIXPANEL: "Mixpanel"}


def _feature_name(feature: str) -> str:
    return feature.removesuffix(".feature")


def _call_list(calls: Iterable[Call]) -> str:
    return ", ".join(f"`{call}`" for call in sorted(calls))


#: The named groups of calls the sentences of the matrix use (every scenario's calls are always needed).
CALL_GROUPS = {"an export's calls": EXPORTING, "the clock calls": CLOCK}


def _group_text(calls: frozenset[Call]) -> str:
    by_service = [f"on a {SERVICE_NAMES[service]} target " + _call_list(c for c in calls if c.service == service)
                  for service in (BRAZE, MIXPANEL) if any(c.service == service for c in calls)]
    return "; ".join(by_service)


def feature_sentences() -> list[str]:
    """One sentence per feature: exactly the calls it needs on each target, in named groups."""
    sentences = []
    for feature in sorted(FEATURE_CALLS):
        calls = FEATURE_CALLS[feature] - EVERY_SCENARIO
        groups = [name for name, group in CALL_GROUPS.items() if group <= calls]
        rest = calls.difference(*(CALL_GROUPS[name] for name in groups))
        needs = ", ".join(["every scenario's calls", *groups])
        sentences.append(f"- `{_feature_name(feature)}` needs {needs}" + (
            f", and {_group_text(frozenset(rest))}." if rest else "."))
    return sentences


def matrix_markdown() -> str:
    """The sentences, then one table per target: a row per call, a column per feature (x: needed)."""
    features = sorted(FEATURE_CALLS)
    out = [f"Every scenario's calls: {_group_text(EVERY_SCENARIO)}.", ""]
    for name, group in CALL_GROUPS.items():
        out += [f"{name[0].upper()}{name[1:]}: {_group_text(group)}.", ""]
    out += feature_sentences()
    header = "| call | " + " | ".join(_feature_name(f) for f in features) + " |"
    for service in (BRAZE, MIXPANEL):
        out += ["", f"{SERVICE_NAMES[service]} target:", "", header, "|---|" + "---|" * len(features)]
        for call, needing in sorted(needed_calls(features, service).items()):
            out.append(f"| `{call}` | " + " | ".join("x" if f in needing else "" for f in features) + " |")
    return "\n".join(out) + "\n"


def with_matrix(document: str) -> str:
    """``document`` with the text between the matrix markers replaced by the current matrix."""
    head, start, rest = document.partition(MATRIX_START)
    _, end, tail = rest.partition(MATRIX_END)
    if not start or not end:
        raise ValueError(f"the document has no {MATRIX_START} ... {MATRIX_END} section")
    return f"{head}{MATRIX_START}\n{matrix_markdown()}{MATRIX_END}{tail}"


def update_matrix_doc(path: str) -> None:
    """Regenerate the feature x call matrix of docs/conformance.md from FEATURE_CALLS."""
    from pathlib import Path

    target = Path(path)
    target.write_text(with_matrix(target.read_text(encoding="utf-8")), encoding="utf-8")
