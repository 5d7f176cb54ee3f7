"""The one store Protocol, and the one locking policy of both mocks (plain Python, no Flask).

Locking policy: a store has one re-entrant ``lock`` (``threading.RLock``) guarding all of its state,
and every change of state happens while it is held. The request threads of the server and, on the
Mixpanel mock, the cohort sync's scheduler (which runs inside ``POST /_harness/clock``) are the only
concurrent callers. The lock is taken at the outermost place that needs a consistent view: a view
that makes several calls that must be atomic (Braze's partner calls and control views, which check
then change) holds it around them; a store method that may be called from either thread (Mixpanel's
store and projects) takes it itself. Being re-entrant, holding it in both places is always safe, and
nothing else is ever locked while a store's lock is held, so there is no lock order to get wrong.
"""
from __future__ import annotations

from typing import Any, Iterable, Protocol, runtime_checkable


class Store(Protocol):
    """The domain state of one mock, and of anything attached to it (the Mixpanel store's components
    such as the cohort export registry): reset, dumped to JSON and loaded back with it."""

    def reset(self) -> None: ...

    def to_dict(self) -> dict[str, Any]: ...

    def load(self, data: dict[str, Any]) -> None: ...


@runtime_checkable
class SecretHolder(Protocol):
    """A store whose tenants have keys and tokens: the journal redacts them wherever they appear."""

    def secret_values(self) -> Iterable[str]: ...
