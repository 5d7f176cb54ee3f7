"""The dashboards' shared layer: served under ``/_harness/ui/`` (a control path, so faults and the
journal never see it), server-rendered with Jinja2, no JavaScript and no asset from outside the wheel.

A vendor builds a blueprint with :func:`vendor_blueprint` and hands it to :func:`install_ui`, which
also registers the shared pieces: the stylesheet, the virtual clock's buttons, one-time notices (a
new key is shown once, then never again) and the error page. Views call the same domain objects the
control plane calls; this module only turns a user's mistake into a readable page (never a 500).
"""
from __future__ import annotations

import itertools
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any, Generic, Sequence, TypeVar
from urllib.parse import urlencode

from flask import Blueprint, Flask, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ..app import BUG_PAGE, CONTROL_PREFIX, mock_context
from ..clock import parse_duration, to_iso
from ..numbers import parse_decimal

UI_PREFIX = CONTROL_PREFIX + "/ui"
EXTENSION = "harness_ui"
PER_PAGE = 50
#: The clock buttons (SEED walk-through): value sent -> button text.
CLOCK_STEPS = {"15m": "Advance 15 minutes", "1h": "Advance 1 hour", "1d": "Advance 1 day"}
T = TypeVar("T")


class UiError(Exception):
    """A page that cannot be shown (unknown workspace, project, cohort...): an HTML error page."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class FormError(Exception):
    """A form a user filled in wrongly: the form is shown again (status 400) with ``message``."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class Notice:
    """A message for the next page only. ``secret`` is shown in full there, once (SEED-2: a new key)."""

    text: str
    kind: str = "info"
    secret: str | None = None
    secret_label: str = ""


class Notices:
    """Messages handed from an action to the page it redirects to, by id in the query string;
    taking one removes it, so a reload (or a second visitor) never sees a secret again."""

    LIMIT = 200

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._waiting: OrderedDict[str, Notice] = OrderedDict()

    def post(self, notice: Notice) -> str:
        with self._lock:
            notice_id = str(next(self._ids))
            self._waiting[notice_id] = notice
            while len(self._waiting) > self.LIMIT:
                self._waiting.popitem(last=False)
            return notice_id

    def take(self, notice_id: str | None) -> Notice | None:
        with self._lock:
            return self._waiting.pop(notice_id, None) if notice_id else None


@dataclass
class UiSettings:
    """What the shared layout needs to know about one mock (kept in ``app.extensions``)."""

    service_title: str
    home_endpoint: str
    notices: Notices = field(default_factory=Notices)


@dataclass
class Page(Generic[T]):
    """One page of a long list (a 10,000-member cohort is shown 50 rows at a time)."""

    items: Sequence[T]
    number: int
    pages: int
    total: int
    per_page: int

    @classmethod
    def of(cls, items: Sequence[T], per_page: int = PER_PAGE, arg: str = "page") -> "Page[T]":
        """The page named by ``?page=`` (a number out of range or not a number shows the nearest page)."""
        pages = max(1, -(-len(items) // per_page))
        text = request.args.get(arg, "1")
        asked = whole_number(text)
        number = 1 if asked is None else min(max(asked, 1), pages)
        start = (number - 1) * per_page
        return cls(items[start:start + per_page], number, pages, len(items), per_page)

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.per_page


def whole_number(text: str) -> int | None:
    """``"12"`` -> 12; anything else (``"x"``, ``"-1"``, ``"²"``, which ``str.isdigit`` accepts, 5,000
    digits) -> None."""
    return parse_decimal(text, strip=False)


def settings() -> UiSettings:
    found: UiSettings = current_app.extensions[EXTENSION]
    return found


def vendor_blueprint(name: str, import_name: str) -> Blueprint:
    """A vendor's dashboard blueprint under ``/_harness/ui``, its templates in ``templates/<vendor>/``."""
    bp = Blueprint(name, import_name, url_prefix=UI_PREFIX, template_folder="templates")
    bp.register_error_handler(UiError, _error_page)
    return bp


def install_ui(app: Flask, blueprint: Blueprint, service_title: str, home_endpoint: str) -> None:
    """Register the shared layer and a vendor's dashboard on a mock app."""
    app.extensions[EXTENSION] = UiSettings(service_title, home_endpoint)
    app.extensions[BUG_PAGE] = _bug_page
    app.register_blueprint(_shared_blueprint())
    app.register_blueprint(blueprint)
    app.jinja_env.filters["masked"] = masked
    app.jinja_env.filters["plural"] = plural
    app.jinja_env.globals["page_url"] = page_url


def render(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    """A page with the shared context: the clock, the one-time notice named in ``?notice=``."""
    ctx = mock_context()
    notice = settings().notices.take(request.args.get("notice"))
    return render_template(template, ui=settings(), now=to_iso(ctx.clock.now()), clock_mode=ctx.clock.mode,
                           clock_steps=CLOCK_STEPS, notice=notice, **context), status


def done(endpoint: str, notice: Notice | None = None, **values: Any) -> Response:
    """Redirect after an action (so a reload does not repeat it), with a notice for the next page."""
    if notice is not None:
        values["notice"] = settings().notices.post(notice)
    return redirect(url_for(endpoint, **values), code=303)


def form_text(name: str, label: str, required: bool = True, max_length: int = 200) -> str:
    """A text field of the posted form, stripped; a missing required one is a :class:`FormError`."""
    value = request.form.get(name, "").strip()
    if required and not value:
        raise FormError(f"{label} is required.", name)
    if len(value) > max_length:
        raise FormError(f"{label} must be at most {max_length} characters.", name)
    return value


def form_choice(name: str, label: str, choices: Sequence[str]) -> str:
    """A field that must be one of ``choices`` (a select or radio group)."""
    value = request.form.get(name, "")
    if value not in choices:
        raise FormError(f"Choose a {label.lower()}." if not value else f"{label}: {value!r} is not one of the choices.",
                        name)
    return value


def masked(secret: str | None) -> str:
    """A key as every page shows it: only its last four characters."""
    return "" if not secret else "•••• " + secret[-4:]


def plural(count: int, word: str) -> str:
    """``1 user``, ``3 users``."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def page_url(number: int, arg: str = "page") -> str:
    """The current URL with another page number (other query arguments kept)."""
    args = {k: v for k, v in request.args.items() if k not in (arg, "notice")}
    args[arg] = str(number)
    return f"{request.path}?{urlencode(args)}"


def safe_next(target: str | None) -> str:
    """Where to go back after a clock move: only a dashboard page of this mock."""
    if target and target.startswith(UI_PREFIX + "/") and "//" not in target and "\\" not in target:
        return target
    return url_for(settings().home_endpoint)


def describe_fired(fired: list[dict[str, Any]], listed: int = 8) -> str:
    """What a clock move ran, in one short paragraph: counts, totals, and the syncs that changed
    something (a day of syncs is 96 of them; most change nothing)."""
    if not fired:
        return "nothing was due."
    results = Counter(str(f.get("result")) for f in fired)
    added, removed = sum(f.get("added", 0) for f in fired), sum(f.get("removed", 0) for f in fired)
    text = (f"{plural(len(fired), 'sync')} ran ({', '.join(f'{n} {r}' for r, n in results.items())}), "
            f"+{added} added, −{removed} removed")
    changed = [f for f in fired if f.get("added") or f.get("removed") or f.get("result") != "success"]
    if not changed:
        return text + "."
    lines = [f"export {f.get('export_id')} at {str(f.get('scheduled_at', ''))[11:16]} {f.get('result')} "
             f"(+{f.get('added', 0)} −{f.get('removed', 0)})" for f in changed[:listed]]
    more = f" and {len(changed) - listed} more" if len(changed) > listed else ""
    return f"{text}: {'; '.join(lines)}{more}."


def with_notice(url: str, notice: Notice) -> str:
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}notice={settings().notices.post(notice)}"


def _shared_blueprint() -> Blueprint:
    bp = Blueprint("harness_ui", __name__, url_prefix=UI_PREFIX, template_folder="templates",
                   static_folder="static", static_url_path="/static")

    @bp.post("/clock")
    def advance_clock() -> Response:
        """The clock buttons: the same ``Clock.advance`` as ``POST /_harness/clock``."""
        back = safe_next(request.form.get("next"))
        step = request.form.get("advance", "")
        if step not in CLOCK_STEPS:
            return redirect(with_notice(back, Notice(f"Unknown clock step {step!r}; use one of the buttons.",
                                                     "error")), code=303)
        clock = mock_context().clock
        fired = clock.advance(parse_duration(step))
        text = f"{CLOCK_STEPS[step]}: now {to_iso(clock.now())}; {describe_fired(fired)}"
        return redirect(with_notice(back, Notice(text)), code=303)

    return bp


def _bug_page(message: str) -> Response | None:
    """A bug on a dashboard path is the dashboards' error page (500), like their 4xx; None elsewhere."""
    if request.path != UI_PREFIX and not request.path.startswith(UI_PREFIX + "/"):
        return None
    return current_app.make_response(render("harness_ui/error.html", 500, title="Something went wrong",
                                            message=message))


def _error_page(error: UiError) -> tuple[str, int]:
    return render("harness_ui/error.html", error.status, title="Not available", message=error.message)
