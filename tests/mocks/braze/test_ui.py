"""The Braze dashboard through Flask's test client: every page valid and labelled, keys masked but
once, forms that refuse bad input with a message (never a 500), unknown things as 404 pages, the
match log's answers, and a 10,000-member cohort paged fast."""
from __future__ import annotations

import re
import time
from typing import Any

import pytest

from mocks.braze import create_app
from mocks.braze.ui import explain
from tests.ui.pages import check_page, text_of

UI = "/_harness/ui"


class Braze:
    """A workspace with users, an imported cohort (all three match outcomes), a segment and a campaign."""

    def __init__(self) -> None:
        self.app = create_app()
        self.client = self.app.test_client()
        created = self.control("POST", "/workspaces", {"name": "Shop"})
        self.ws, self.rest_key = created["workspace_id"], created["rest_api_key"]
        self.partner_key = self.control("GET", "/partners")["partners"][0]["partner_api_key"]
        self.key = self.control("POST", f"/workspaces/{self.ws}/data_import_keys", {})["key"]
        self.control("POST", f"/workspaces/{self.ws}/users", {"users": [{"external_id": "ann"}, {"external_id": "bob"}]})
        self.control("POST", f"/workspaces/{self.ws}/sdk/users", {"device_id": "phone-9"})
        self.control("POST", f"/workspaces/{self.ws}/sdk/change_user", {"device_id": "phone-9", "external_id": "dan"})
        self.partner("/partners/mixpanel/cohorts", {"cohort_id": "7", "name": "Buyers", "created_at": "2026-01-01T00:00:00Z"})
        self.partner("/partners/mixpanel/cohorts/users", {"cohort_id": "7", "cohort_changes": [
            {"user_ids": ["ann", "bob", "cy"], "device_ids": ["phone-9"]}]})
        self.segment = self.control("POST", f"/workspaces/{self.ws}/segments", {"name": "Buyers segment", "filters": [
            {"type": "Mixpanel_Cohorts", "operator": "includes_value", "cohort_id": "7"}]})["segment_id"]
        self.campaign = self.control("POST", f"/workspaces/{self.ws}/campaigns",
                                     {"name": "Win-back", "segment_id": self.segment})["campaign_id"]

    def control(self, method: str, path: str, body: Any = None) -> Any:
        reply = self.client.open(f"/_harness{path}", method=method, json=body)
        assert reply.status_code < 300, reply.get_data(as_text=True)
        return reply.get_json()

    def partner(self, path: str, body: dict[str, Any]) -> None:
        reply = self.client.post(path, json={"partner_api_key": self.partner_key, "client_secret": self.key, **body})
        assert reply.status_code < 300, reply.get_data(as_text=True)

    def page(self, path: str, status: int = 200, **query: str) -> str:
        reply = self.client.get(f"{UI}{path}", query_string=query or None)
        assert reply.status_code == status, (path, reply.status_code)
        html = text_of(reply)
        check_page(html, secrets=(self.key, self.rest_key, self.partner_key))
        return html

    def post(self, path: str, data: dict[str, str] | None = None) -> Any:
        return self.client.post(f"{UI}{path}", data=data or {})


@pytest.fixture()
def braze() -> Braze:
    return Braze()


def alerts(html: str) -> list[str]:
    return re.findall(r'role="alert"><p>(.*?)</p>', html)


def test_every_page_is_valid_html_with_labelled_controls_and_masked_keys(braze: Braze) -> None:
    ws = f"/workspaces/{braze.ws}"
    user = braze.control("GET", f"{ws}/users")["users"][0]["braze_id"]
    for path in ["/", ws, f"{ws}/technology-partners", f"{ws}/technology-partners/mixpanel", f"{ws}/segments",
                 f"{ws}/segments/new", f"{ws}/segments/{braze.segment}", f"{ws}/campaigns", f"{ws}/campaigns/new",
                 f"{ws}/campaigns/{braze.campaign}", f"{ws}/canvas", f"{ws}/canvas/new", f"{ws}/cohorts",
                 f"{ws}/cohorts/mixpanel/7", f"{ws}/users", f"{ws}/users/{user}"]:
        braze.page(path)
    braze.page(f"{ws}/cohorts/mixpanel/7", identifier="phone")
    braze.page(f"{ws}/users", q="dan")
    assert "•••• " + braze.key[-4:] in braze.page(f"{ws}/technology-partners/mixpanel")


def test_a_new_key_is_shown_in_full_once_then_masked(braze: Braze) -> None:
    reply = braze.post(f"/workspaces/{braze.ws}/technology-partners/mixpanel/keys")
    assert reply.status_code == 303
    first = braze.client.get(reply.headers["Location"]).get_data(as_text=True)
    keys = braze.control("GET", f"/workspaces/{braze.ws}/data_import_keys")["keys"]
    new_key = keys[-1]["key"]
    assert f'value="{new_key}"' in first and first.count(new_key) == 1
    again = braze.client.get(reply.headers["Location"]).get_data(as_text=True)
    assert new_key not in again and "•••• " + new_key[-4:] in again


def test_invalidate_marks_the_key_and_it_stops_authenticating(braze: Braze) -> None:
    reply = braze.post(f"/workspaces/{braze.ws}/technology-partners/mixpanel/keys/1/invalidate")
    assert reply.status_code == 303
    html = braze.client.get(reply.headers["Location"]).get_data(as_text=True)
    assert "Invalidated" in html and "invalidated: it no longer authenticates" in html
    refused = braze.client.post("/partners/mixpanel/cohorts/users", json={
        "partner_api_key": braze.partner_key, "client_secret": braze.key, "cohort_id": "7", "cohort_changes": []})
    assert refused.status_code == 401 and refused.get_json()["message"] == "Invalid client secret"


@pytest.mark.parametrize("form, message", [
    ({"name": " ", "filter": "Mixpanel_Cohorts", "operator": "includes", "cohort": "7"}, "Segment name is required."),
    ({"name": "S", "filter": "Mixpanel_Cohorts", "operator": "includes", "cohort": ""}, "Choose a cohort."),
    ({"name": "S", "filter": "Mixpanel_Cohorts", "operator": "includes", "cohort": "99"},
     "Cohort: &#39;99&#39; is not one of the choices."),
    ({"name": "S", "filter": "Amplitude_Cohorts", "operator": "includes", "cohort": "7"},
     "Filter: &#39;Amplitude_Cohorts&#39; is not one of the choices."),
    ({"name": "S", "filter": "Mixpanel_Cohorts", "operator": "contains", "cohort": "7"},
     "Operator: &#39;contains&#39; is not one of the choices."),
    ({"name": "x" * 201, "filter": "Mixpanel_Cohorts", "operator": "includes", "cohort": "7"},
     "Segment name must be at most 200 characters."),
])
def test_the_segment_form_refuses_bad_input_and_saves_nothing(braze: Braze, form: dict[str, str], message: str) -> None:
    reply = braze.post(f"/workspaces/{braze.ws}/segments", form)
    assert reply.status_code == 400
    html = reply.get_data(as_text=True)
    assert alerts(html) == [message]
    check_page(html)
    assert len(braze.control("GET", f"/workspaces/{braze.ws}/segments")["segments"]) == 1


def test_saving_a_segment_and_a_canvas_shows_their_sizes(braze: Braze) -> None:
    reply = braze.post(f"/workspaces/{braze.ws}/segments", {"name": "Not buyers", "filter": "Mixpanel_Cohorts",
                                                            "operator": "excludes", "cohort": "7"})
    assert reply.status_code == 303
    html = braze.client.get(reply.headers["Location"]).get_data(as_text=True)
    assert '<p class="big">1 user</p>' in html  # dan: everyone but the two members
    segment_id = re.search(r"/segments/([^?]+)", reply.headers["Location"]).group(1)  # type: ignore[union-attr]
    made = braze.post(f"/workspaces/{braze.ws}/canvas", {"name": "Journey", "segment": segment_id})
    assert made.status_code == 303
    assert '<p class="big">1 user</p>' in braze.client.get(made.headers["Location"]).get_data(as_text=True)
    refused = braze.post(f"/workspaces/{braze.ws}/canvas", {"name": "Journey", "segment": "nope"})
    assert refused.status_code == 400 and alerts(refused.get_data(as_text=True)) == [
        "Target segment: &#39;nope&#39; is not one of the choices."]


@pytest.mark.parametrize("path", ["/workspaces/nope", "/workspaces/{ws}/segments/nope", "/workspaces/{ws}/campaigns/nope",
                                  "/workspaces/{ws}/cohorts/mixpanel/nope", "/workspaces/{ws}/users/nope",
                                  "/workspaces/{ws}/technology-partners/amplitude", "/pick?ws=nope"])
def test_unknown_things_are_404_pages(braze: Braze, path: str) -> None:
    assert "Not available" in braze.page(path.format(ws=braze.ws), status=404)


@pytest.mark.parametrize("number", ["0", "2", "x", "²"])
def test_invalidating_an_unknown_key_number_is_a_404_page(braze: Braze, number: str) -> None:
    reply = braze.post(f"/workspaces/{braze.ws}/technology-partners/mixpanel/keys/{number}/invalidate")
    assert reply.status_code == 404 and reply.mimetype == "text/html"


def test_the_match_log_answers_why_a_user_is_not_in_the_cohort(braze: Braze) -> None:
    ws = f"/workspaces/{braze.ws}/cohorts/mixpanel/7"
    assert "No Braze user has this external_id" in braze.page(ws, identifier="cy")
    device = braze.page(ws, identifier="PHONE")  # case does not matter
    assert "device_of_identified_user".replace("_", " ") in device
    assert "(external_id dan), who is identified" in device
    assert "Matched user" in braze.page(ws, identifier="ann")
    assert "was ever sent for this cohort" in braze.page(ws, identifier="zed")


def test_explain_words_a_removal() -> None:
    entry = {"kind": "external_id", "outcome": "matched", "operation": "remove", "braze_id": "b1"}
    assert explain(entry, None) == "Matched user b1 by external_id: removed from the cohort."  # type: ignore[arg-type]


def test_a_10000_member_cohort_is_paged_and_fast(braze: Braze) -> None:
    ids = [f"user-{i:05d}" for i in range(10_000)]
    braze.control("POST", f"/workspaces/{braze.ws}/users", {"users": [{"external_id": i} for i in ids]})
    for start in range(0, len(ids), 1000):
        braze.partner("/partners/mixpanel/cohorts/users", {"cohort_id": "big", "cohort_changes": [
            {"user_ids": ids[start:start + 1000]}]})
    started = time.perf_counter()
    html = braze.page(f"/workspaces/{braze.ws}/cohorts/mixpanel/big", page="200")
    elapsed = time.perf_counter() - started
    assert "Page 200 of 200 (10000 rows)" in html and html.count("<tr>") == 1 + 50
    assert elapsed < 1.0, f"{elapsed:.2f} s"
    segment = braze.post(f"/workspaces/{braze.ws}/segments", {"name": "Big", "filter": "Mixpanel_Cohorts",
                                                             "operator": "includes", "cohort": "big"})
    started = time.perf_counter()
    assert "10000 users" in braze.client.get(segment.headers["Location"]).get_data(as_text=True)
    assert time.perf_counter() - started < 1.0
