"""Client of a Mixpanel target: the Mixpanel control plane (README "The test control plane") (projects, cohorts, Braze
connections, exports) plus the vendor endpoints a world loader and the conformance steps need
(``/import``, ``/engage``, the Query API and the raw export)."""
from __future__ import annotations

import json
from typing import Any, Iterator

from .base import SLOW_TIMEOUT, HttpClient, checked
from .created import Cohort, Connection, Export, Project
from .errors import HarnessHTTPError

ServiceAccount = dict[str, str]  # {"username", "secret"} as create_project returns it


class MixpanelClient(HttpClient):
    """``MixpanelClient("http://127.0.0.1:4020")``; ``pid`` arguments are project ids."""

    service = "mixpanel"

    # -- projects and cohorts --------------------------------------------------------------------
    def create_project(self, name: str, retention_days: int | None = None, *, vendor_retention: bool = False,
                       created_at: str | None = None) -> Project:
        """``.project_id``, ``.token``, ``.api_secret``, ``.service_account`` (``{"username", "secret"}``).

        ``retention_days`` is always sent, ``null`` when None (no rolling window, only the 2010 floor):
        features and worlds judge the seed's 2010 rule with events years old, which the vendor's default
        (2 or 5 years by creation date) would drop. ``vendor_retention=True`` sends none, so the target
        applies that default; ``created_at`` (ISO-8601) dates the project."""
        body: dict[str, Any] = {"name": name}
        if not vendor_retention:
            body["retention_days"] = retention_days
        if created_at is not None:
            body["created_at"] = created_at
        return self.create(Project, "/projects", json=body)

    def list_projects(self) -> list[dict[str, Any]]:
        """Every project as ``create_project`` returns it, oldest first."""
        return self.control("GET", "/projects")["projects"]

    def stats(self, pid: Any) -> dict[str, Any]:
        """``{"events_stored", "events_removed_by_retention", "events_rejected", "profiles"}``."""
        return self.control("GET", f"/projects/{pid}/stats")

    def create_cohort(self, pid: Any, name: str, definition: dict[str, Any],
                      description: str | None = None) -> Cohort:
        """A cohort (the cohort definition language of the README)."""
        body: dict[str, Any] = {"name": name, "definition": definition}
        if description is not None:
            body["description"] = description
        return self.create(Cohort, f"/projects/{pid}/cohorts", json=body)

    def update_cohort(self, pid: Any, cohort_id: Any, **changes: Any) -> dict[str, Any]:
        """PATCH: ``name=...`` renames, ``definition=...`` redefines."""
        return self.control("PATCH", f"/projects/{pid}/cohorts/{cohort_id}", json=changes)

    def list_cohorts(self, pid: Any) -> list[dict[str, Any]]:
        return self.control("GET", f"/projects/{pid}/cohorts")["cohorts"]

    def cohort_members(self, pid: Any, cohort_id: Any) -> list[str]:
        """Canonical distinct_ids of the members, evaluated at the target's current instant."""
        return self.control("GET", f"/projects/{pid}/cohorts/{cohort_id}/members")["members"]

    # -- Braze connections and exports (SEED-3, SEED-4) ------------------------------------------
    def create_connection(self, pid: Any, data_import_key: str, rest_endpoint: str, **options: Any) -> Connection:
        """Options: ``partner_api_key``, ``name``, ``user_id_property``, ``alias_label``,
        ``alias_property``, ``device_id_property``."""
        body = {"data_import_key": data_import_key, "rest_endpoint": rest_endpoint, **options}
        return self.create(Connection, f"/projects/{pid}/connections", json=body, timeout=SLOW_TIMEOUT)

    def update_connection(self, pid: Any, connection_id: Any, **changes: Any) -> dict[str, Any]:
        """PATCH, e.g. ``data_import_key=...`` after the old one was invalidated."""
        return self.control("PATCH", f"/projects/{pid}/connections/{connection_id}", json=changes,
                            timeout=SLOW_TIMEOUT)

    def list_connections(self, pid: Any) -> list[dict[str, Any]]:
        """Saved connections (keys masked)."""
        return self.control("GET", f"/projects/{pid}/connections")["connections"]

    def create_export(self, pid: Any, cohort_id: Any, connection_id: Any, mode: str = "dynamic",
                      **options: Any) -> Export:
        """Runs the first sync at once. Options: ``interval`` (e.g. ``"1m"``)."""
        body = {"cohort_id": cohort_id, "connection_id": connection_id, "mode": mode, **options}
        return self.create(Export, f"/projects/{pid}/exports", json=body, timeout=SLOW_TIMEOUT)

    def get_export(self, pid: Any, export_id: Any, limit: int | None = None) -> dict[str, Any]:
        """``{"status", "error", "next_sync_at", "syncs": [...]}``; ``limit`` keeps the last syncs only."""
        params = {"limit": limit} if limit else None
        return self.control("GET", f"/projects/{pid}/exports/{export_id}", params=params)

    def list_exports(self, pid: Any) -> list[dict[str, Any]]:
        return self.control("GET", f"/projects/{pid}/exports")["exports"]

    def stop_export(self, pid: Any, export_id: Any) -> dict[str, Any]:
        return self.control("POST", f"/projects/{pid}/exports/{export_id}/stop")

    def resume_export(self, pid: Any, export_id: Any) -> dict[str, Any]:
        return self.control("POST", f"/projects/{pid}/exports/{export_id}/resume", timeout=SLOW_TIMEOUT)

    def run_export(self, pid: Any, export_id: Any) -> dict[str, Any]:
        """"Run now": one sync at the current instant."""
        return self.control("POST", f"/projects/{pid}/exports/{export_id}/run", timeout=SLOW_TIMEOUT)

    # -- vendor ingestion ------------------------------------------------------------------------
    def import_events(self, pid: Any, service_account: ServiceAccount, events: list[dict[str, Any]],
                      strict: bool = True) -> dict[str, Any]:
        """``POST /import`` (at most 2,000 events a call); ``{"code": 200, "num_records_imported"}``."""
        params = {"project_id": pid, "strict": "1" if strict else "0"}
        return self.request("POST", "/import", params=params, json=events, auth=_basic(service_account),
                            timeout=SLOW_TIMEOUT)

    def engage(self, updates: list[dict[str, Any]]) -> dict[str, Any]:
        """``POST /engage`` with profile updates that each carry ``$token`` and ``$distinct_id``.

        The endpoint answers 200 even when it refuses the batch, so ``{"status": 0}`` is raised as
        :class:`HarnessHTTPError` with the server's ``error`` text."""
        reply = self.request("POST", "/engage", params={"verbose": "1"}, data={"data": json.dumps(updates)})
        if isinstance(reply, dict) and reply.get("status") == 0:
            raise HarnessHTTPError(200, reply.get("error") or "engage refused the batch", "POST",
                                   self.base_url + "/engage", reply)
        return reply

    def engage_set(self, token: str, distinct_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        """``$set`` profile properties of one user."""
        return self.engage([{"$token": token, "$distinct_id": distinct_id, "$set": properties}])

    # -- vendor query and export -----------------------------------------------------------------
    def query_cohorts_list(self, pid: Any, service_account: ServiceAccount) -> list[dict[str, Any]]:
        """``POST /api/query/cohorts/list``: the bare array Mixpanel answers."""
        return self.request("POST", "/api/query/cohorts/list", params={"project_id": pid},
                            auth=_basic(service_account))

    def query_engage(self, pid: Any, service_account: ServiceAccount, page: int = 0,
                     session_id: str | None = None, **params: Any) -> dict[str, Any]:
        """One page of ``POST /api/query/engage``; ``params`` are the documented form fields
        (``filter_by_cohort``, ``where``, ``output_properties``, ``distinct_ids``...; dicts and lists
        are sent as JSON)."""
        form = {k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in params.items()}
        form["page"] = page
        if session_id:
            form["session_id"] = session_id
        return self.request("POST", "/api/query/engage", params={"project_id": pid}, data=form,
                            auth=_basic(service_account))

    def query_engage_all(self, pid: Any, service_account: ServiceAccount, **params: Any) -> Iterator[dict[str, Any]]:
        """Every profile of the query, page after page (keeps asking while a page is full)."""
        page, session_id = 0, None
        while True:
            reply = self.query_engage(pid, service_account, page=page, session_id=session_id, **params)
            yield from reply["results"]
            if len(reply["results"]) < reply.get("page_size", 1000):
                return
            page, session_id = page + 1, reply.get("session_id")

    def export_events(self, pid: Any, service_account: ServiceAccount, from_date: str, to_date: str,
                      **params: Any) -> list[dict[str, Any]]:
        """``GET /api/2.0/export`` (JSONL) parsed into a list of events; ``event`` may be a list."""
        query = {k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in params.items()}
        query.update(project_id=pid, from_date=from_date, to_date=to_date)
        response = self.send("GET", "/api/2.0/export", params=query, auth=_basic(service_account),
                             timeout=SLOW_TIMEOUT)
        if response.status_code != 200:
            checked(response)
        return [json.loads(line) for line in response.text.splitlines() if line.strip()]


def _basic(service_account: ServiceAccount) -> tuple[str, str]:
    return service_account["username"], service_account["secret"]
