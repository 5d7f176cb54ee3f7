"""The HTTP client Mixpanel's sync uses to talk to a Braze REST endpoint (the partner cohort API).

Braze's two partner endpoints take their credentials in the body (``partner_api_key`` and the
customer's data import key as ``client_secret``).

A call is a :class:`PartnerCall`: encoded when it is made, sent by ``start()`` and finished by
``result()``. Between the two the caller is free to do its own work (the sync encodes the next batch
and books the previous one while Braze handles this one), yet only one request is ever in flight,
so the order in which Braze sees requests, and so what a fault rule does to them, is deterministic.

The transport is :mod:`http.client` on one connection per Braze connection, kept alive when the
server allows it. It is deliberately not ``requests``: on a 1,000,000-member export (1,001 calls)
``requests`` spent about 0.6 ms of client work per call, a third of Braze's whole round trip.

Failures follow HOUSE-9. A call is retried when Braze is busy or unreachable (429, 5xx, timeouts,
dropped connections): up to ``max_retries`` times, with exponential backoff, ``Retry-After`` honoured,
and all waits inside one budget (60 s). Waiting goes through an injected ``sleep`` so a virtual clock
never sleeps for real; every wait is reported back so the sync record can show it. A refusal
(400, 401, 403, 404) is not retried: it carries Braze's message, and the sync pauses on it.
"""
from __future__ import annotations

import http.client
import json
import select
import socket
import ssl
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Mapping, Protocol, cast
from urllib.parse import urlsplit

import certifi

from mocks.common.defaults import MIXPANEL_PARTNER
from mocks.common.numbers import parse_decimal

#: Statuses that pause an export: the request or the credentials are wrong, retrying cannot help.
REFUSING_STATUSES = frozenset({400, 401, 403, 404})
#: Statuses that mean "busy, try again" besides every 5xx (423 is Braze's "Resource locked").
RETRYABLE_STATUSES = frozenset({408, 423, 425, 429})

Sleep = Callable[[float], None]


@dataclass(frozen=True)
class RetryPolicy:
    """HOUSE-9: ``max_retries`` retries after the first attempt, waits doubling from ``base_delay_s``
    (1, 2, 4, 8, 16 s by default), never more than ``budget_s`` waited in total for one call."""

    max_retries: int = 5
    base_delay_s: float = 1.0
    budget_s: float = 60.0

    def backoff(self, retry_number: int) -> float:
        return self.base_delay_s * (2 ** (retry_number - 1))


@dataclass(frozen=True)
class Attempt:
    """One failed try of a call and how long the client waited before the next one."""

    call: str
    attempt: int
    reason: str
    wait_s: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"call": self.call, "attempt": self.attempt, "reason": self.reason, "wait_s": self.wait_s}


@dataclass
class CallReport:
    """What one successful call cost: HTTP requests made (retries included) and the failed tries."""

    requests: int = 0
    attempts: list[Attempt] = field(default_factory=list)


class BrazeCallError(Exception):
    """A call that did not succeed; ``report`` says what it tried."""

    def __init__(self, message: str, report: CallReport):
        super().__init__(message)
        self.message = message
        self.report = report


class BrazeRefused(BrazeCallError):
    """Braze answered 400/401/403/404: the export pauses with Braze's message."""

    def __init__(self, status: int, message: str, report: CallReport):
        super().__init__(message, report)
        self.status = status


class BrazeUnavailable(BrazeCallError):
    """Busy or unreachable past the retry policy (or an unexpected status): the sync fails."""


@dataclass(frozen=True)
class Reply:
    """What Braze answered: the status, the headers (lower-case names) and the body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def message(self) -> str:
        """Braze's error text: ``{"message": ...}`` when it is JSON, the raw text otherwise."""
        try:
            body = json.loads(self.body)
        except ValueError:
            return self.body.decode("utf-8", "replace").strip()[:500] or f"HTTP {self.status}"
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            return body["message"]
        return json.dumps(body)[:500]


class TransportError(Exception):
    """A request that got no answer; ``reason`` is what the sync record shows for the attempt."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Transport(Protocol):
    """Sends one request and receives its reply, in two steps (see :class:`HttpTransport`)."""

    def send(self, path: str, body: bytes) -> None: ...

    def receive(self) -> Reply: ...

    def close(self) -> None: ...


class HttpTransport:
    """One HTTP/1.1 connection to a Braze endpoint (``http`` or ``https``), opened on first use,
    kept alive while the server allows it and reopened when it does not.

    Timeouts are ``(connect, read)`` seconds like ``requests``'; writing a request is bounded by the
    read timeout. HTTPS checks certificates against certifi's bundle, as ``requests`` does, and
    redirects are not followed (a partner endpoint that redirects is misconfigured: the sync fails
    with the 3xx). A connection that sat idle is checked before it is reused: a server may close an
    idle keep-alive connection at any time, and a request written into a closed connection would be
    a failure nobody caused."""

    def __init__(self, base_url: str, timeout: tuple[float, float] = (3.05, 30.0)):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        if parts.scheme == "https":
            context = ssl.create_default_context(cafile=certifi.where())
            self._connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                parts.hostname, parts.port, timeout=timeout[0], context=context)
        else:
            self._connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout[0])
        self.base_path = parts.path.rstrip("/")
        self.timeout = timeout

    def send(self, path: str, body: bytes) -> None:
        try:
            self._ensure_open()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise TransportError(self._reason(exc, self.timeout[0])) from None
        try:
            self._connection.request("POST", self.base_path + path, body=body,
                                     headers={"Content-Type": "application/json", "Accept": "application/json"})
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise TransportError(self._reason(exc, self.timeout[1])) from None

    def receive(self) -> Reply:
        try:
            response = self._connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise TransportError(self._reason(exc, self.timeout[1])) from None
        if response.will_close:
            self.close()
        return Reply(response.status, {name.lower(): value for name, value in response.getheaders()}, body)

    def close(self) -> None:
        self._connection.close()

    def _ensure_open(self) -> None:
        if self._connection.sock is not None and _closed_by_peer(self._connection.sock):
            self.close()
        if self._connection.sock is None:
            self._connection.connect()
            # connect() set the socket; mypy still sees the None tested above
            cast(socket.socket, self._connection.sock).settimeout(self.timeout[1])

    @staticmethod
    def _reason(exc: BaseException, seconds: float) -> str:
        if isinstance(exc, TimeoutError):
            return f"timed out after {seconds:g} s"
        text = str(exc)[:200]
        return f"connection failed ({type(exc).__name__}: {text})" if text else \
            f"connection failed ({type(exc).__name__})"


def _closed_by_peer(sock: socket.socket) -> bool:
    """An idle connection with something to read has been closed (or broken) by the server."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # delta-seconds (``²`` is a digit to isdigit, not to float)
        seconds = parse_decimal(value)
        return float("inf") if seconds is None else float(seconds)  # too long to wait for: give up
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - now).total_seconds(), 0.0)


class PartnerCall:
    """One call to a partner endpoint, retried per HOUSE-9: ``start()`` sends the first try,
    ``result()`` waits for the answer (and any retries) and returns what the call cost, or raises
    :class:`BrazeRefused` / :class:`BrazeUnavailable`."""

    def __init__(self, client: "BrazePartnerClient", endpoint: str, body: bytes):
        self._client = client
        self.endpoint = endpoint
        self.body = body
        self.report = CallReport()
        self._send_failure: str | None = None
        self._started = False

    def start(self) -> "PartnerCall":
        if not self._started:
            self._started = True
            self._send()
        return self

    def result(self) -> CallReport:
        self.start()
        waited = 0.0
        while True:
            reason, retry_after = self._outcome()
            if reason is None:
                return self.report
            wait = self._client.next_wait(self.report.requests - 1, retry_after, waited)
            self.report.attempts.append(Attempt(self.endpoint, self.report.requests, reason, wait))
            if wait is None:
                raise BrazeUnavailable(f"Braze did not accept the call after {self.report.requests} attempts: "
                                       f"{reason}", self.report)
            self._client.sleep(wait)
            waited += wait
            self._send()

    def _send(self) -> None:
        self.report.requests += 1
        try:
            self._client.transport.send(f"/{self.endpoint}", self.body)
            self._send_failure = None
        except TransportError as exc:
            self._send_failure = exc.reason

    def _outcome(self) -> tuple[str | None, float | None]:
        """(None, None) on success, or (why the try failed, Retry-After) when it is worth retrying."""
        if self._send_failure is not None:
            return self._send_failure, None
        try:
            reply = self._client.transport.receive()
        except TransportError as exc:
            return exc.reason, None
        if 200 <= reply.status < 300:
            return None, None
        message = reply.message()
        if reply.status in REFUSING_STATUSES:
            raise BrazeRefused(reply.status, message, self.report)
        reason = f"HTTP {reply.status}: {message}"
        if reply.status not in RETRYABLE_STATUSES and reply.status < 500:
            self.report.attempts.append(Attempt(self.endpoint, self.report.requests, reason, None))
            raise BrazeUnavailable(f"Braze answered an unexpected {reason}", self.report)
        return reason, retry_after_seconds(reply.headers.get("retry-after"), self._client.now())


class BrazePartnerClient:
    """Calls ``{rest_endpoint}/partners/mixpanel/cohorts`` and ``/cohorts/users`` for one connection."""

    def __init__(self, rest_endpoint: str, partner_api_key: str, data_import_key: str, *,
                 timeout: tuple[float, float] = (3.05, 30.0), retry: RetryPolicy = RetryPolicy(),
                 sleep: Sleep = time.sleep, now: Callable[[], datetime] | None = None,
                 partner: str = MIXPANEL_PARTNER, transport: Transport | None = None):
        self.base_url = f"{rest_endpoint.rstrip('/')}/partners/{partner}"
        self._credentials = {"partner_api_key": partner_api_key, "client_secret": data_import_key}
        self.retry = retry
        self.sleep = sleep
        self.now = now or (lambda: datetime.now(timezone.utc))
        self.transport: Transport = transport or HttpTransport(self.base_url, timeout)

    def close(self) -> None:
        self.transport.close()

    # -- the two partner endpoints -----------------------------------------------------------------
    def name_cohort(self, cohort_id: str, name: str, created_at: str) -> CallReport:
        """The cohort name endpoint (an upsert: first export and after every rename)."""
        return self._call("cohorts", {"cohort_id": cohort_id, "name": name, "created_at": created_at}).result()

    def users_call(self, cohort_id: str, cohort_changes: list[dict[str, Any]]) -> PartnerCall:
        """The user cohort endpoint, encoded and ready to ``start()``."""
        return self._call("cohorts/users", {"cohort_id": cohort_id, "cohort_changes": cohort_changes})

    def change_users(self, cohort_id: str, cohort_changes: list[dict[str, Any]]) -> CallReport:
        return self.users_call(cohort_id, cohort_changes).result()

    def check_credentials(self) -> CallReport:
        """Braze accepts an empty change list with valid keys: the way partners test a connection."""
        return self.change_users("connection-check", [])

    def _call(self, endpoint: str, fields: dict[str, Any]) -> PartnerCall:
        body = json.dumps({**self._credentials, **fields}, separators=(",", ":")).encode()
        return PartnerCall(self, endpoint, body)

    # -- retries -----------------------------------------------------------------------------------
    def next_wait(self, retries_done: int, retry_after: float | None, waited: float) -> float | None:
        """Seconds to wait before the next try, or None to give up (retries or budget spent)."""
        if retries_done >= self.retry.max_retries:
            return None
        wait = self.retry.backoff(retries_done + 1)
        if retry_after is not None:
            wait = max(wait, retry_after)
        if waited + wait > self.retry.budget_s:
            return None
        return wait
