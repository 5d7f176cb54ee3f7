"""The HTTP client Mixpanel's sync uses to talk to a Braze REST endpoint (the partner cohort API).

Braze's two partner endpoints take their credentials in the body (``partner_api_key`` and the
customer's data import key as ``client_secret``). The client keeps one ``requests.Session`` per
connection, so consecutive batches reuse the TCP connection when the server keeps it alive.

Failures follow HOUSE-9. A call is retried when Braze is busy or unreachable (429, 5xx, timeouts,
dropped connections): up to ``max_retries`` times, with exponential backoff, ``Retry-After`` honoured,
and all waits inside one budget (60 s). Waiting goes through an injected ``sleep`` so a virtual clock
never sleeps for real; every wait is reported back so the sync record can show it. A refusal
(400, 401, 403, 404) is not retried: it carries Braze's message, and the sync pauses on it.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable

import requests
from requests.adapters import HTTPAdapter

from mocks.common.defaults import MIXPANEL_PARTNER

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


def _braze_message(response: requests.Response) -> str:
    """Braze's error text: ``{"message": ...}`` when it is JSON, the raw text otherwise."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or f"HTTP {response.status_code}"
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"]
    return json.dumps(body)[:500]


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - now).total_seconds(), 0.0)


class BrazePartnerClient:
    """Calls ``{rest_endpoint}/partners/mixpanel/cohorts`` and ``/cohorts/users`` for one connection."""

    def __init__(self, rest_endpoint: str, partner_api_key: str, data_import_key: str, *,
                 timeout: tuple[float, float] = (3.05, 30.0), retry: RetryPolicy = RetryPolicy(),
                 sleep: Sleep = time.sleep, now: Callable[[], datetime] | None = None,
                 partner: str = MIXPANEL_PARTNER, session: requests.Session | None = None):
        self.base_url = f"{rest_endpoint.rstrip('/')}/partners/{partner}"
        self._credentials = {"partner_api_key": partner_api_key, "client_secret": data_import_key}
        self.timeout = timeout
        self.retry = retry
        self._sleep = sleep
        self._now = now or (lambda: datetime.now(timezone.utc))
        self.session = session or _keep_alive_session()

    def close(self) -> None:
        self.session.close()

    # -- the two partner endpoints -----------------------------------------------------------------
    def name_cohort(self, cohort_id: str, name: str, created_at: str) -> CallReport:
        """The cohort name endpoint (an upsert: first export and after every rename)."""
        return self._post("cohorts", {"cohort_id": cohort_id, "name": name, "created_at": created_at})

    def change_users(self, cohort_id: str, cohort_changes: list[dict[str, Any]]) -> CallReport:
        """The user cohort endpoint; an empty ``cohort_changes`` only checks the credentials."""
        return self._post("cohorts/users", {"cohort_id": cohort_id, "cohort_changes": cohort_changes})

    def check_credentials(self) -> CallReport:
        """Braze accepts an empty change list with valid keys: the way partners test a connection."""
        return self.change_users("connection-check", [])

    # -- retries -----------------------------------------------------------------------------------
    def _post(self, endpoint: str, fields: dict[str, Any]) -> CallReport:
        url = f"{self.base_url}/{endpoint}"
        payload = json.dumps({**self._credentials, **fields}, separators=(",", ":"))
        report = CallReport()
        waited = 0.0
        while True:
            report.requests += 1
            reason, retry_after = self._try_once(url, payload, endpoint, report)
            if reason is None:
                return report
            wait = self._next_wait(report, retry_after, waited)
            report.attempts.append(Attempt(endpoint, report.requests, reason, wait))
            if wait is None:
                raise BrazeUnavailable(f"Braze did not accept the call after {report.requests} attempts: {reason}",
                                       report)
            self._sleep(wait)
            waited += wait

    def _try_once(self, url: str, payload: str, endpoint: str,
                  report: CallReport) -> tuple[str | None, float | None]:
        """One request: (None, None) on success, or (why it failed, Retry-After) when worth retrying."""
        try:
            response = self.session.post(url, data=payload, timeout=self.timeout,
                                         headers={"Content-Type": "application/json"})
        except requests.Timeout:
            return f"timed out after {self.timeout[1]:g} s", None
        except requests.ConnectionError as exc:
            return f"connection failed ({_root_cause(exc)})", None
        if 200 <= response.status_code < 300:
            return None, None
        message = _braze_message(response)
        if response.status_code in REFUSING_STATUSES:
            raise BrazeRefused(response.status_code, message, report)
        reason = f"HTTP {response.status_code}: {message}"
        if response.status_code not in RETRYABLE_STATUSES and response.status_code < 500:
            report.attempts.append(Attempt(endpoint, report.requests, reason, None))
            raise BrazeUnavailable(f"Braze answered an unexpected {reason}", report)
        return reason, retry_after_seconds(response.headers.get("Retry-After"), self._now())

    def _next_wait(self, report: CallReport, retry_after: float | None, waited: float) -> float | None:
        """Seconds to wait before the next try, or None to give up (retries or budget spent)."""
        retries_done = report.requests - 1
        if retries_done >= self.retry.max_retries:
            return None
        wait = self.retry.backoff(retries_done + 1)
        if retry_after is not None:
            wait = max(wait, retry_after)
        if waited + wait > self.retry.budget_s:
            return None
        return wait


def _keep_alive_session() -> requests.Session:
    """A session whose pool keeps a couple of connections and never retries on its own
    (retries are ours: counted, backed off and recorded). It ignores proxy and netrc settings of
    the environment: the exporter talks to the endpoint it was given, and reading the environment
    on every one of a million-member export's requests cost half a second."""
    session = requests.Session()
    session.trust_env = False
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=2, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _root_cause(exc: BaseException) -> str:
    """The innermost error of a requests/urllib3 chain, e.g. ``ConnectionRefusedError: [Errno 111] ...``."""
    seen = exc
    for _ in range(10):
        reason = getattr(seen, "reason", None)
        wrapped = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        inner = reason if isinstance(reason, BaseException) else wrapped or seen.__cause__ or seen.__context__
        if inner is None or inner is seen:
            break
        seen = inner
    text = str(seen)[:200]
    return f"{type(seen).__name__}: {text}" if text else type(seen).__name__
