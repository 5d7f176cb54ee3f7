"""The npm ``braze-api`` package (pinned by clients/node/package-lock.json), run unmodified by node
against the Braze mock with its ``apiUrl``; results are read through the control plane."""
from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from .conftest import CLIENTS, require, run

ALICE = {"external_id": "ann"}
WEB_ALIAS = {"alias_name": "anon-1", "alias_label": "web"}


@pytest.fixture()
def braze_api() -> str:
    require(CLIENTS / "node" / "node_modules" / "braze-api" / "package.json", "the braze-api npm package")
    return str(CLIENTS / "node" / "braze-drive.js")


def drive(script: str, url: str, api_key: str, calls: list[list[Any]]) -> list[dict[str, Any]]:
    return run(["node", script, json.dumps({"url": url, "api_key": api_key, "calls": calls})])


def users(url: str, workspace: dict[str, Any]) -> dict[str, dict[str, Any]]:
    listed = requests.get(f"{url}/_harness/workspaces/{workspace['workspace_id']}/users").json()["users"]
    return {user["external_id"] or user["aliases"][0]["alias_name"]: user for user in listed}


def test_track_alias_identify_export_merge_delete(braze_api, braze_mock):
    url, workspace = braze_mock
    replies = drive(braze_api, url, workspace["rest_api_key"], [
        ["users.track", {"attributes": [{**ALICE, "email": "ann@example.com", "plan": "pro"},
                                        {"external_id": "bob", "plan": "free"}]}],
        ["users.alias.new", {"user_aliases": [{**ALICE, "alias_name": "mp-ann", "alias_label": "mixpanel"}]}],
        ["users.track", {"attributes": [{"user_alias": WEB_ALIAS, "_update_existing_only": False, "seen": 1}]}],
        ["users.identify", {"aliases_to_identify": [{"external_id": "cy", "user_alias": WEB_ALIAS}]}],
        ["users.export.ids", {"external_ids": ["ann", "nobody"], "fields_to_export": ["external_id", "email",
                                                                                       "custom_attributes"]}],
        ["users.export.ids", {"email_address": "ann@example.com", "fields_to_export": ["external_id"]}],
    ])
    assert [r["ok"] for r in replies] == [True] * 6, replies
    assert replies[1]["reply"] == {"aliases_processed": 1, "message": "success"}
    assert replies[3]["reply"] == {"aliases_processed": 1, "message": "success"}
    assert replies[4]["reply"] == {"users": [{"external_id": "ann", "email": "ann@example.com",
                                              "custom_attributes": {"plan": "pro"}}],
                                   "invalid_user_ids": ["nobody"], "message": "success"}
    assert replies[5]["reply"] == {"users": [{"external_id": "ann"}], "message": "success"}
    before = users(url, workspace)
    assert before["ann"]["aliases"] == [{"alias_label": "mixpanel", "alias_name": "mp-ann"}]
    assert before["cy"]["attributes"] == {"seen": 1}

    replies = drive(braze_api, url, workspace["rest_api_key"], [
        ["users.merge", {"merge_updates": [{"identifier_to_merge": {"external_id": "bob"},
                                            "identifier_to_keep": ALICE}]}],
        ["users.delete", {"external_ids": ["cy"]}],
    ])
    assert [r["reply"] for r in replies] == [{"message": "success"}, {"deleted": 1, "message": "success"}]
    after = users(url, workspace)
    assert sorted(after) == ["ann"]


def test_lists_and_a_refusal_surface_in_the_client(braze_api, braze_mock):
    url, workspace = braze_mock
    replies = drive(braze_api, url, workspace["rest_api_key"], [["segments.list", {}], ["campaigns.list", {}],
                                                                ["canvas.list", {}], ["users.delete", {}]])
    assert [r.get("reply") for r in replies[:3]] == [{"message": "success", "segments": []},
                                                     {"message": "success", "campaigns": []},
                                                     {"canvases": [], "message": "success"}]
    assert (replies[3]["ok"], replies[3]["status"]) == (False, 400)
    wrong = drive(braze_api, url, "not-a-key", [["users.track", {"attributes": [ALICE]}]])[0]
    assert (wrong["ok"], wrong["status"], wrong["error"]) == (False, 401, "Invalid API key: not-a-key")
