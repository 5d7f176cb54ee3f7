"""The HTTP plumbing shared by both clients and the control plane common to both mocks (README "The test control plane").

One keep-alive ``requests.Session`` per client; every call goes through :meth:`HttpClient.request`,
which turns connection failures into :class:`TargetUnreachable` and non-2xx replies into
:class:`HarnessHTTPError`. Listing calls return the list inside the reply; every other call returns
the reply object as the server sent it (targets may add fields).
"""
from __future__ import annotations

import json
from typing import Any, Callable, TypeVar

import requests

from .created import Created
from .errors import HarnessHTTPError, TargetUnreachable, message_of

R = TypeVar("R", bound=Created)

CONTROL = "/_harness"
#: Clock moves and exports run syncs inside the request, which may take long on big cohorts.
SLOW_TIMEOUT = 900.0


class HttpClient:
    """Base of :class:`BrazeClient` and :class:`MixpanelClient`."""

    service = ""

    def __init__(self, base_url: str, timeout: float = 60.0, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        #: called with (method, path) before each request (the conformance plugin counts a scenario's calls)
        self.listeners: list[Callable[[str, str], None]] = []

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"

    def close(self) -> None:
        self.session.close()

    # -- transport -------------------------------------------------------------------------------
    def send(self, method: str, path: str, *, timeout: float | None = None, **kwargs: Any) -> requests.Response:
        """One request, whatever its status (for tests that look at raw replies); raises only
        :class:`TargetUnreachable`."""
        url = self.base_url + path
        for listener in self.listeners:
            listener(method.upper(), path.split("?", 1)[0])
        try:
            return self.session.request(method, url, timeout=timeout or self.timeout, **kwargs)
        except requests.ConnectionError as exc:
            raise TargetUnreachable(url, _reason(exc)) from None
        except requests.Timeout:
            raise TargetUnreachable(url, f"no reply within {timeout or self.timeout:g} s") from None

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request; the parsed JSON reply (or text), or :class:`HarnessHTTPError` on non-2xx."""
        return checked(self.send(method, path, **kwargs))

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        """A call under ``/_harness``."""
        return self.request(method, CONTROL + path, **kwargs)

    def create(self, record: type[R], path: str, **kwargs: Any) -> R:
        """``POST /_harness<path>``; the reply as ``record`` (every ``create_*`` call returns one)."""
        return record.from_reply(self.control("POST", path, **kwargs), f"POST {self.base_url}{CONTROL}{path}")

    # -- common control plane (both mocks) -------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """``{"status": "ok", "service": ...}``."""
        return self.control("GET", "/health")

    def reset(self) -> dict[str, Any]:
        """Wipe all state of the target."""
        return self.control("POST", "/reset")

    def get_state(self) -> dict[str, Any]:
        return self.control("GET", "/state")

    def put_state(self, state: dict[str, Any]) -> dict[str, Any]:
        return self.control("PUT", "/state", json=state)

    def get_clock(self) -> dict[str, Any]:
        """``{"now": ISO, ...}``."""
        return self.control("GET", "/clock")

    def advance_clock(self, duration: str) -> dict[str, Any]:
        """Move the clock forward (``"15m"``); ``{"now", "fired": [...]}`` with what ran."""
        return self.control("POST", "/clock", json={"advance": duration}, timeout=SLOW_TIMEOUT)

    def set_clock(self, instant: str) -> dict[str, Any]:
        """Jump to an ISO-8601 instant; ``{"now", "fired": [...]}``."""
        return self.control("POST", "/clock", json={"set": instant}, timeout=SLOW_TIMEOUT)

    def journal(self, path: str | None = None, method: str | None = None,
                limit: int | None = None) -> list[dict[str, Any]]:
        """Recorded requests (secrets redacted), oldest first; ``path`` may end with ``*``."""
        params = {k: v for k, v in (("path", path), ("method", method), ("limit", limit)) if v is not None}
        return self.control("GET", "/journal", params=params)["entries"]

    def clear_journal(self) -> dict[str, Any]:
        return self.control("DELETE", "/journal")

    def add_fault(self, path: str, **rule: Any) -> str:
        """Add a fault rule (the README's fault fields: method, status, body, headers, delay_ms,
        drop_connection, times, probability, seed); returns its ``fault_id``."""
        return self.control("POST", "/faults", json={"path": path, **rule})["fault_id"]

    def list_faults(self) -> list[dict[str, Any]]:
        return self.control("GET", "/faults")["faults"]

    def clear_faults(self) -> dict[str, Any]:
        return self.control("DELETE", "/faults")


def checked(response: requests.Response) -> Any:
    """The parsed body of a 2xx reply; :class:`HarnessHTTPError` with the server's message otherwise."""
    body = parse_body(response)
    if not 200 <= response.status_code < 300:
        raise HarnessHTTPError(response.status_code, message_of(body, response.reason or "error"),
                               response.request.method or "", response.url, body)
    return body


def parse_body(response: requests.Response) -> Any:
    """JSON when the body is JSON, else the text (``None`` when empty)."""
    text = response.text
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Connection reset", "Name or service not known", "Remote end closed"):
        if marker in text:
            return marker.lower()
    return "connection failed"
