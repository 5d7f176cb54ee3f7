"""Refusals, the match-log search, the sync chart and a screenshot of every screen, in chromium."""
from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from .conftest import Dashboards, shot
from .test_seed_flow import button, connect, generate_key, link


def braze_workspace(dash: Dashboards, users: list[dict[str, Any]]) -> str:
    ws = dash.braze.create_workspace("Shop").workspace_id
    dash.braze.control("POST", f"/workspaces/{ws}/users", json={"users": users})
    return ws


def test_connect_shows_brazes_refusal_of_an_invalidated_key(dash: Dashboards, page: Any) -> None:
    ws = braze_workspace(dash, [])
    page.goto(f"{dash.braze_ui}workspaces/{ws}/technology-partners/mixpanel")
    endpoint, key = generate_key(page)
    row = page.get_by_role("row").filter(has_text="•••• " + key[-4:])
    row.get_by_role("button", name="Invalidate", exact=True).click()
    expect(page.get_by_role("row").filter(has_text="•••• " + key[-4:])).to_contain_text("Invalidated")
    shot(page, "braze-key-invalidated")

    pid = dash.mixpanel.create_project("Shop").project_id
    page.goto(f"{dash.mixpanel_ui}projects/{pid}")
    connect(page, key, endpoint)
    expect(page.get_by_role("alert")).to_have_text("Braze refused the connection (HTTP 401): Invalid client secret")
    expect(page.get_by_role("textbox", name="Braze data import key", exact=True)).to_have_value("")
    expect(page.get_by_role("textbox", name="REST endpoint", exact=True)).to_have_value(endpoint)
    shot(page, "mixpanel-connect-refused")
    assert dash.mixpanel.list_connections(pid) == []


def exported_world(dash: Dashboards) -> tuple[str, int, int]:
    """Braze: ann, and a phone identified as dan; Mixpanel: ann, cy (unknown to Braze) and the phone's
    anonymous profile, all recent buyers, exported through a connection that sends device ids."""
    ws = braze_workspace(dash, [{"external_id": "ann"}])
    dash.braze.sdk_create_user(ws, "phone-9")
    dash.braze.sdk_change_user(ws, "phone-9", "dan")
    key = dash.braze.create_data_import_key(ws).key
    pid = dash.mixpanel.create_project("Shop").project_id
    dash.load_mixpanel(pid, {"ann": {"$braze_external_id": "ann"}, "cy": {"$braze_external_id": "cy"},
                             "$device:phone-9": {"$braze_device_id": "phone-9"}},
                       {"ann": 2, "cy": 23.9, "$device:phone-9": 1})
    cohort = dash.mixpanel.create_cohort(pid, "Recent buyers", {"event": "Purchase", "within_days": 1}).cohort_id
    connection = dash.mixpanel.create_connection(pid, key, dash.braze_url, device_id_property="$braze_device_id").connection_id
    export = dash.mixpanel.create_export(pid, cohort, connection).export_id
    return ws, pid, export


def test_the_match_log_search_answers_why_a_user_is_not_in_the_cohort(dash: Dashboards, page: Any) -> None:
    ws, _, _ = exported_world(dash)
    page.goto(f"{dash.braze_ui}workspaces/{ws}")
    link(page, "Cohorts").click()
    link(page, "Recent buyers").click()
    search = page.get_by_role("searchbox", name="Identifier", exact=True)
    for identifier, outcome, why in (("cy", "unknown user", "No Braze user has this external_id"),
                                     ("phone-9", "device of identified user", "(external_id dan), who is identified"),
                                     ("ann", "matched", "added to the cohort")):
        search.fill(identifier)
        button(page, "Search").click()
        entries = page.get_by_role("table", name="Match log entries")
        expect(entries).to_contain_text(outcome)
        expect(entries).to_contain_text(why)
        expect(entries).to_contain_text("add request at 2026-01-01T00:00:00Z")
        shot(page, f"braze-match-log-{identifier}")


def test_the_sync_chart_follows_a_day_of_syncs(dash: Dashboards, page: Any) -> None:
    _, pid, export = exported_world(dash)
    page.goto(f"{dash.mixpanel_ui}projects/{pid}/exports/{export}")
    button(page, "Advance 1 day").click()
    expect(page.get_by_role("status")).to_have_text(re.compile(r"96 syncs ran \(96 success\), \+0 added, −3 removed: export 1 at 00:15 success \(\+0 −1\); .*; export 1 at 23:15 success \(\+0 −1\)\.\s*$"))
    chart = page.get_by_role("img", name=re.compile("^Adds and removes per sync"))
    expect(chart.locator("rect")).to_have_count(2 * 97)
    expect(chart.locator("title", has_text="Sync 1 at 2026-01-01T00:00:00Z: +3 added")).to_have_count(1)
    # cy's purchase leaves the window at 00:06, so the sync at 00:15 removes one identifier
    expect(chart.locator("title", has_text="Sync 2 at 2026-01-01T00:15:00Z: −1 removed")).to_have_count(1)
    expect(page.get_by_role("navigation", name="Syncs pages")).to_contain_text("Page 1 of 2 (97 rows)")
    shot(page, "mixpanel-export-a-day-of-syncs")
    page.get_by_role("navigation", name="Syncs pages").get_by_role("link", name="Next", exact=True).click()
    link(page, "Sync 1").click()  # the oldest, on the last page
    operations = page.get_by_role("table", name="Operations")
    expect(operations.get_by_role("row")).to_have_count(1 + 3)
    expect(operations).to_contain_text("phone-9")
    shot(page, "mixpanel-sync-operations")


def test_a_screenshot_of_every_other_screen(dash: Dashboards, page: Any) -> None:
    ws, pid, export = exported_world(dash)
    braze, mixpanel = f"{dash.braze_ui}workspaces/{ws}", f"{dash.mixpanel_ui}projects/{pid}"
    segment = dash.braze.create_segment(ws, "Buyers", dash.braze.cohorts(ws)[0]["cohort_id"]).segment_id
    dash.braze.create_campaign(ws, "Win-back", segment)
    for name, url in (("braze-workspaces", dash.braze_ui), ("braze-overview", braze),
                      ("braze-technology-partners", f"{braze}/technology-partners"), ("braze-segments", f"{braze}/segments"),
                      ("braze-campaigns", f"{braze}/campaigns"), ("braze-cohorts", f"{braze}/cohorts"),
                      ("braze-users", f"{braze}/users"), ("mixpanel-projects", dash.mixpanel_ui),
                      ("mixpanel-overview", mixpanel), ("mixpanel-integrations", f"{mixpanel}/integrations"),
                      ("mixpanel-cohorts", f"{mixpanel}/cohorts"), ("mixpanel-cohort", f"{mixpanel}/cohorts/{dash.mixpanel.list_cohorts(pid)[0]['cohort_id']}"),
                      ("mixpanel-users", f"{mixpanel}/profiles")):
        page.goto(url)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        shot(page, name)
    page.goto(f"{braze}/users")
    page.get_by_role("link", name=re.compile("^[0-9a-f]{24}$")).last.click()
    expect(page.get_by_role("heading", name="dan", exact=True)).to_be_visible()
    shot(page, "braze-user-profile")
    page.goto(f"{mixpanel}/profiles")
    link(page, "$device:phone-9").click()
    expect(page.get_by_role("table", name="Events")).to_contain_text("Purchase")
    shot(page, "mixpanel-profile")
