"""Checks every dashboard page must pass: valid HTML (the WHATWG parser in strict mode finds no
error), every form control labelled, every button named, and no secret in full."""
from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import html5lib

CONTROLS = ("input", "select", "textarea")


class _Controls(HTMLParser):
    """Collects form controls, the ids labels point at, and the text of buttons."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.controls: list[dict[str, str]] = []
        self.label_for: set[str] = set()
        self.label_depth = 0
        self.buttons: list[str] = []
        self._button: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "label":
            self.label_depth += 1
            if found.get("for"):
                self.label_for.add(found["for"])
        elif tag in CONTROLS and found.get("type") != "hidden":
            self.controls.append({**found, "_tag": tag, "_wrapped": "yes" if self.label_depth else ""})
        elif tag == "button":
            self._button = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.label_depth -= 1
        elif tag == "button" and self._button is not None:
            self.buttons.append("".join(self._button).strip())
            self._button = None

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button.append(data)


def check_page(html: str, secrets: tuple[str, ...] = ()) -> None:
    """Raise AssertionError naming the first problem of one page."""
    parser = html5lib.HTMLParser(strict=True)
    try:
        parser.parse(html)
    except html5lib.html5parser.ParseError as exc:
        raise AssertionError(f"invalid HTML: {exc}") from None
    found = _Controls()
    found.feed(html)
    for control in found.controls:
        labelled = (control.get("id") in found.label_for or control.get("aria-label")
                    or control.get("aria-labelledby") or control["_wrapped"])
        assert labelled, f"unlabelled <{control['_tag']}> {control}"
    assert all(found.buttons), f"a button without a name: {found.buttons}"
    for secret in secrets:
        assert secret not in html, f"a secret appears in full: {secret[:6]}..."


def text_of(response: Any) -> str:
    assert response.status_code < 500, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "text/html", response.mimetype
    return response.get_data(as_text=True)
