"""The contract as data: each mock serves an OpenAPI 3.1 document generated from its routes and the
JSON Schemas it validates with; both documents are valid, and schemathesis, driven by them against both
mocks over loopback, finds no 5xx."""
import json

import pytest
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate

from harness.embedded import EmbeddedMocks
from mocks.braze import create_app as braze_app
from mocks.mixpanel import create_app as mixpanel_app

APPS = {"braze": braze_app, "mixpanel": mixpanel_app}
#: An injected fault is a 5xx on purpose: the call that injects one is left out of the fuzzing.
NOT_FUZZED = {("POST", "/_harness/faults")}


def document(service):
    reply = APPS[service]().test_client().get("/_harness/openapi.json")
    assert reply.status_code == 200
    return reply.get_json()


@pytest.mark.parametrize("service", sorted(APPS))
def test_the_document_is_valid_openapi_3_1(service):
    doc = document(service)
    validate(doc)
    assert doc["openapi"] == "3.1.0"


@pytest.mark.parametrize("service", sorted(APPS))
def test_the_document_is_the_url_map_without_the_dashboards(service):
    app = APPS[service]()
    expected = {(m.lower(), rule.rule) for rule in app.url_map.iter_rules() for m in rule.methods - {"HEAD", "OPTIONS"}
                if rule.endpoint != "static" and not rule.rule.startswith("/_harness/ui")}
    doc = document(service)
    found = {(method, path) for path, ops in doc["paths"].items() for method in ops}
    assert len(found) == len(expected)
    assert ("get", "/_harness/openapi.json") in found and not any("/_harness/ui" in p for _, p in found)


def test_request_bodies_are_the_schemas_the_mocks_validate_with():
    doc = document("braze")
    body = doc["paths"]["/users/track"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/braze.users_track"}
    source = json.loads(open("mocks/braze/schemas/users_track.json").read())
    component = doc["components"]["schemas"]["braze.users_track"]
    assert component["properties"].keys() == source["properties"].keys()
    assert doc["paths"]["/partners/{partner}/cohorts/users"]["post"]["tags"] == ["vendor API"]
    assert doc["paths"]["/_harness/workspaces"]["post"]["requestBody"]["required"] is False  # optional body
    mixpanel = document("mixpanel")
    export = mixpanel["paths"]["/_harness/projects/{pid}/exports"]["post"]["requestBody"]
    assert export["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/mixpanel.export"}
    assert mixpanel["paths"]["/_harness/projects/{pid}/exports"]["post"]["tags"] == ["control plane"]


def test_schemathesis_finds_no_server_error_on_either_mock():
    import schemathesis

    mocks = EmbeddedMocks().start()
    server_errors, calls = [], []
    try:
        for url in (mocks.braze_url, mocks.mixpanel_url):
            schema = schemathesis.openapi.from_url(url + "/_harness/openapi.json")
            for result in schema.get_all_operations():
                operation = result.ok()
                if (operation.method.upper(), operation.path) in NOT_FUZZED:
                    continue

                @given(operation.as_strategy())
                @settings(max_examples=4, deadline=None, derandomize=True, database=None,
                          suppress_health_check=list(HealthCheck))
                def check(case):
                    reply = case.call(base_url=url, timeout=10)
                    calls.append(reply.status_code)
                    if reply.status_code >= 500:
                        server_errors.append(f"{case.method} {case.formatted_path} -> {reply.status_code}: "
                                             f"{reply.text[:200]}")

                check()
    finally:
        mocks.stop()
    assert server_errors == []
    assert len(calls) > 200 and len(set(calls)) > 3  # it did reach both mocks, with varied answers
