"""The dashboards' shared layer: the clock buttons (the same Clock.advance as the control plane),
where they may send the browser back to, one-time notices, paging and the chart's geometry."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask

from mocks.braze import create_app
from mocks.common.clock import DEFAULT_START
from mocks.common.ui import UI_PREFIX, Notice, Notices, Page, describe_fired
from mocks.common.ui.chart import HEIGHT, MARGIN, adds_and_removes
from tests.ui.pages import check_page


@pytest.fixture()
def app() -> Flask:
    return create_app()


def notice_text(app: Flask, location: str) -> str:
    html = app.test_client().get(location).get_data(as_text=True)
    found = re.findall(r'<div class="notice notice-(\w+)" role="\w+">\s*<p>(.*?)</p>', html)
    assert len(found) == 1, html
    return ":".join(found[0])


@pytest.mark.parametrize("step, text, moved", [("15m", "Advance 15 minutes", 15), ("1h", "Advance 1 hour", 60),
                                               ("1d", "Advance 1 day", 1440)])
def test_a_clock_button_moves_the_clock_and_says_what_ran(app: Flask, step: str, text: str, moved: int) -> None:
    reply = app.test_client().post(f"{UI_PREFIX}/clock", data={"advance": step, "next": f"{UI_PREFIX}/"})
    assert reply.status_code == 303 and reply.headers["Location"].startswith(f"{UI_PREFIX}/?notice=")
    assert app.extensions["harness"].clock.now() == DEFAULT_START + timedelta(minutes=moved)
    assert notice_text(app, reply.headers["Location"]).startswith(f"info:{text}: now ")


@pytest.mark.parametrize("step", ["", "2h", "-15m"])
def test_an_unknown_clock_step_moves_nothing(app: Flask, step: str) -> None:
    reply = app.test_client().post(f"{UI_PREFIX}/clock", data={"advance": step})
    assert reply.status_code == 303
    assert app.extensions["harness"].clock.now() == DEFAULT_START
    assert notice_text(app, reply.headers["Location"]).startswith("error:Unknown clock step")


@pytest.mark.parametrize("target", ["https://example.com/", "//example.com/x", "/_harness/state", f"{UI_PREFIX}//x",
                                    "/\\example.com"])
def test_the_clock_only_sends_the_browser_back_to_a_dashboard_page(app: Flask, target: str) -> None:
    reply = app.test_client().post(f"{UI_PREFIX}/clock", data={"advance": "15m", "next": target})
    assert reply.headers["Location"].startswith(f"{UI_PREFIX}/?notice=")


def test_a_notice_is_shown_once() -> None:
    notices = Notices()
    notice_id = notices.post(Notice("key", secret="s3cret"))
    assert notices.take(notice_id) is not None
    assert notices.take(notice_id) is None and notices.take(None) is None and notices.take("x") is None


def test_the_start_page_and_the_stylesheet_come_from_the_wheel(app: Flask) -> None:
    client = app.test_client()
    check_page(client.get(f"{UI_PREFIX}/").get_data(as_text=True))
    css = client.get(f"{UI_PREFIX}/static/ui.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert b"http" not in css.data  # no font, image or script from outside


@pytest.mark.parametrize("arg, number", [("1", 1), ("3", 3), ("4", 4), ("99", 4), ("0", 1), ("x", 1), ("-2", 1),
                                         ("²", 1), ("٣", 1), ("9" * 5000, 1)])
def test_a_page_number_out_of_range_shows_the_nearest_page(app: Flask, arg: str, number: int) -> None:
    with app.test_request_context(f"/?page={arg}"):
        page = Page.of(list(range(160)))
    assert (page.number, page.pages, page.total) == (number, 4, 160)
    assert list(page.items) == list(range(160))[(number - 1) * 50:number * 50]


def test_the_chart_scales_bars_to_the_peak_and_places_them_in_time() -> None:
    start = DEFAULT_START
    chart = adds_and_removes([(start, 4, 0, "a"), (start + timedelta(minutes=15), 0, 2, "b"),
                              (start + timedelta(hours=1), 1, 1, "c")])
    adds = [b for b in chart.bars if b.kind == "add"]
    removes = [b for b in chart.bars if b.kind == "remove"]
    half = (HEIGHT - 2 * MARGIN) / 2
    assert [round(b.height, 3) for b in adds] == [half, 0, half / 4]
    assert [round(b.height, 3) for b in removes] == [0, half / 2, half / 4]
    assert adds[0].x < adds[1].x < adds[2].x and (adds[1].x - adds[0].x) * 4 == pytest.approx(adds[2].x - adds[0].x)
    assert adds[0].title == "a: +4 added" and removes[1].title == "b: −2 removed"
    assert adds_and_removes([]).bars == []


def test_a_clock_move_lists_only_the_syncs_that_changed_something() -> None:
    quiet = {"export_id": 1, "result": "success", "added": 0, "removed": 0, "scheduled_at": "2026-01-01T00:15:00Z"}
    busy = [{**quiet, "removed": 1, "scheduled_at": f"2026-01-01T{h:02d}:00:00Z"} for h in range(10)]
    assert describe_fired([]) == "nothing was due."
    assert describe_fired([quiet, quiet]) == "2 syncs ran (2 success), +0 added, −0 removed."
    text = describe_fired([quiet, *busy, {**quiet, "result": "paused"}])
    assert text.startswith("12 syncs ran (11 success, 1 paused), +0 added, −10 removed: export 1 at 00:00 success (+0 −1); ")
    assert text.endswith("export 1 at 07:00 success (+0 −1) and 3 more.")


def test_every_template_and_stylesheet_ships_in_the_wheel() -> None:
    """Each file under a ``templates/`` or ``static/`` folder is matched by pyproject's package-data,
    in a package the wheel lists (a wheel built from the tree was checked by hand to hold them)."""
    import tomllib
    from fnmatch import fnmatch
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    setup = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    patterns, packages = setup["package-data"]["*"], set(setup["packages"])
    assets = [p for folder in ("templates", "static") for p in (root / "mocks").rglob(f"{folder}/**/*") if p.is_file()]
    assert len(assets) > 30
    for asset in assets:
        package_dir = next(parent for parent in asset.parents if (parent / "__init__.py").exists())
        package = ".".join(package_dir.relative_to(root).parts)
        relative = asset.relative_to(package_dir).as_posix()
        assert package in packages, package
        assert any(fnmatch(relative, pattern) and relative.count("/") == pattern.count("/") for pattern in patterns), relative
