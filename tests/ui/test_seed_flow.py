"""The seed's walk-through, clicked in a real browser from an empty workspace and project to a
campaign audience; then the clock moves and a member leaves (SEED-2 to SEED-5, HOUSE-8)."""
from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from .conftest import Dashboards, shot

COHORT = "Recent buyers"


def button(page: Any, name: str) -> Any:
    return page.get_by_role("button", name=name, exact=True)


def link(page: Any, name: str) -> Any:
    return page.get_by_role("link", name=name, exact=True)


def create_braze_workspace(page: Any, dash: Dashboards) -> str:
    page.goto(dash.braze_ui)
    page.get_by_label("Workspace name", exact=True).fill("Shop")
    button(page, "Create workspace").click()
    return re.search(r"/workspaces/([^/?]+)", page.url).group(1)  # type: ignore[union-attr]


def generate_key(page: Any) -> tuple[str, str]:
    """On Technology Partners > Mixpanel: the REST endpoint and a new key, shown in full once."""
    expect(page.get_by_role("heading", name="Mixpanel", exact=True)).to_be_visible()
    endpoint = page.get_by_label("REST endpoint", exact=True).input_value()
    button(page, "Generate new key").click()
    return endpoint, page.get_by_label("Data import key", exact=True).input_value()


def connect(page: Any, key: str, endpoint: str, name: str = "") -> None:
    """Integrations > Braze > Connect, fill the prompt, Continue."""
    link(page, "Integrations").click()
    link(page, "Braze").click()
    button(page, "Connect").click()
    page.get_by_role("textbox", name="Braze data import key", exact=True).fill(key)
    page.get_by_role("textbox", name="REST endpoint", exact=True).fill(endpoint)
    page.get_by_role("textbox", name="Name", exact=True).fill(name)
    button(page, "Continue").click()


def test_seed_flow_from_an_empty_workspace_to_a_campaign_audience(dash: Dashboards, page: Any) -> None:
    # Braze: Technology Partners > Mixpanel, generate the data import key (SEED-2)
    ws = create_braze_workspace(page, dash)
    dash.braze.control("POST", f"/workspaces/{ws}/users",
                       json={"users": [{"external_id": "ann"}, {"external_id": "bob"}]})
    link(page, "Technology Partners").click()
    link(page, "Mixpanel").click()
    endpoint, key = generate_key(page)
    assert endpoint == dash.braze_url
    shot(page, "braze-technology-partners-new-key")
    page.reload()  # shown once: afterwards only its last four characters
    expect(page.get_by_label("Data import key", exact=True)).to_have_count(0)
    expect(page.get_by_role("cell", name="•••• " + key[-4:])).to_be_visible()
    assert key not in page.content()

    # Mixpanel: an empty project gets its data, then Integrations > Braze > Connect (SEED-3)
    page.goto(dash.mixpanel_ui)
    page.get_by_label("Project name", exact=True).fill("Shop")
    button(page, "Create project").click()
    pid = int(re.search(r"/projects/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    dash.load_mixpanel(pid, {"ann": {"$braze_external_id": "ann"}, "bob": {"$braze_external_id": "bob"}},
                       {"ann": 23.6, "bob": 4})  # ann's purchase leaves the one-day window at 00:24
    dash.mixpanel.create_cohort(pid, COHORT, {"event": "Purchase", "within_days": 1})
    connect(page, key, endpoint, "Shop workspace")
    expect(page.get_by_role("status")).to_contain_text("Braze accepted the key")
    assert key not in page.content()
    shot(page, "mixpanel-integrations-braze")

    # Mixpanel: Cohorts > the cohort > Export to Braze, dynamic (SEED-4)
    link(page, "Cohorts").click()
    link(page, COHORT).click()
    expect(page.get_by_text("2 users", exact=True)).to_be_visible()
    button(page, "Export to Braze").click()
    page.get_by_role("radio", name="Dynamic sync", exact=True).check()
    shot(page, "mixpanel-export-to-braze")
    button(page, "Export").click()
    expect(page.locator("#export-status")).to_have_text("Active")
    expect(page.get_by_role("status")).to_contain_text("first sync: success, +2 added")
    export_url = page.url.split("?")[0]

    # Braze: Segments > Create segment with the cohort Mixpanel sent (SEED-5.1, 5.2)
    page.goto(f"{dash.braze_ui}workspaces/{ws}")
    link(page, "Segments").click()
    button(page, "Create segment").click()
    page.get_by_role("textbox", name="Segment name", exact=True).fill("Buyers from Mixpanel")
    page.get_by_role("combobox", name="Filter", exact=True).select_option("Mixpanel_Cohorts")
    page.get_by_role("combobox", name="Operator", exact=True).select_option("includes")
    page.get_by_role("combobox", name="Cohort", exact=True).select_option(label=COHORT)
    shot(page, "braze-create-segment")
    button(page, "Save").click()
    expect(page.get_by_text("2 users", exact=True)).to_be_visible()
    shot(page, "braze-segment")

    # Braze: a campaign and a Canvas whose Target users step picks the segment (SEED-5.3)
    targets = {}
    for section, create, name in (("Campaigns", "Create campaign", "Win-back"), ("Canvas", "Create Canvas", "Journey")):
        link(page, section).click()
        button(page, create).click()
        page.get_by_role("textbox", name="Name", exact=True).fill(name)
        page.get_by_role("combobox", name="Target segment", exact=True).select_option(label="Buyers from Mixpanel")
        shot(page, f"braze-{create.lower().replace(' ', '-')}")
        button(page, "Save").click()
        expect(page.get_by_text("2 users", exact=True)).to_be_visible()
        targets[section] = page.url.split("?")[0]
    shot(page, "braze-canvas-audience")

    # the clock moves on Mixpanel's dashboard: four syncs run, ann leaves the cohort (HOUSE-8)
    page.goto(export_url)
    button(page, "Advance 1 hour").click()
    expect(page.get_by_role("status")).to_contain_text("4 syncs ran")
    expect(page.get_by_role("status")).to_contain_text("4 syncs ran (4 success), +0 added, −1 removed: export 1 at 00:30")
    shot(page, "mixpanel-export-after-an-hour")
    page.goto(targets["Campaigns"])
    expect(page.get_by_text("1 user", exact=True)).to_be_visible()
    audience = page.get_by_role("table")
    expect(audience).to_contain_text("bob")
    expect(audience).not_to_contain_text("ann")
    shot(page, "braze-campaign-audience-after-an-hour")
