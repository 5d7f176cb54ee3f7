"""Client of a Braze target: the Braze control plane (README "Braze control plane") plus the vendor endpoints a world
loader and the conformance steps need (users REST API with a Bearer key, partner cohort endpoints)."""
from __future__ import annotations

from typing import Any

from mocks.common.defaults import MIXPANEL_PARTNER

from .base import HttpClient
from .created import Campaign, Canvas, DataImportKey, RestApiKey, Segment, Workspace
from .errors import HarnessHTTPError

#: A target that lacks an optional batch route answers one of these (the single calls then do the work;
#: an unknown workspace is a 404 there too, so the error the caller sees is the same).
NO_BATCH_ROUTE = (404, 405)


class BrazeClient(HttpClient):
    """``BrazeClient("http://127.0.0.1:4010")``; ``ws`` arguments are workspace ids."""

    service = "braze"

    # -- partners, workspaces and keys (SEED-2) --------------------------------------------------
    def partners(self) -> list[dict[str, Any]]:
        """``[{"name": "mixpanel", "partner_api_key": ...}]``."""
        return self.control("GET", "/partners")["partners"]

    def partner_api_key(self, partner: str = MIXPANEL_PARTNER) -> str:
        """The key Braze issued to ``partner`` (what the Mixpanel side sends as ``partner_api_key``)."""
        for entry in self.partners():
            if entry["name"] == partner:
                return entry["partner_api_key"]
        raise LookupError(f"Braze target at {self.base_url} knows no partner {partner!r}")

    def create_workspace(self, name: str) -> Workspace:
        """A workspace and its first REST API key (every permission)."""
        return self.create(Workspace, "/workspaces", json={"name": name})

    def list_workspaces(self) -> list[dict[str, Any]]:
        """``[{"workspace_id", "name", "created_at", "users", "cohorts"}]``, oldest first."""
        return self.control("GET", "/workspaces")["workspaces"]

    def list_rest_api_keys(self, ws: str) -> list[dict[str, Any]]:
        """``[{"rest_api_key", "permissions", "created_at"}]``, the one made with the workspace first."""
        return self.control("GET", f"/workspaces/{ws}/rest_api_keys")["rest_api_keys"]

    def create_rest_api_key(self, ws: str, permissions: list[str]) -> RestApiKey:
        return self.create(RestApiKey, f"/workspaces/{ws}/rest_api_keys", json={"permissions": permissions})

    def create_data_import_key(self, ws: str, partner: str = MIXPANEL_PARTNER) -> DataImportKey:
        """``.key`` and the ``.rest_endpoint`` shown with it (SEED-2.1)."""
        return self.create(DataImportKey, f"/workspaces/{ws}/data_import_keys", json={"partner": partner})

    def list_data_import_keys(self, ws: str) -> list[dict[str, Any]]:
        return self.control("GET", f"/workspaces/{ws}/data_import_keys")["keys"]

    def invalidate_data_import_key(self, ws: str, key: str) -> Any:
        """SEED-2.2: the key answers ``401 Invalid client secret`` from now on."""
        return self.control("DELETE", f"/workspaces/{ws}/data_import_keys/{key}")

    # -- users -----------------------------------------------------------------------------------
    def sdk_create_user(self, ws: str, device_id: str, attributes: dict[str, Any] | None = None) -> str:
        """An anonymous user on a device, as an SDK would create it; returns its ``braze_id``."""
        body: dict[str, Any] = {"device_id": device_id}
        if attributes is not None:
            body["attributes"] = attributes
        return self.control("POST", f"/workspaces/{ws}/sdk/users", json=body)["braze_id"]

    def sdk_change_user(self, ws: str, device_id: str, external_id: str) -> dict[str, Any]:
        """SDK ``changeUser``: ``{"braze_id", "outcome": "identified" or "merged"}``."""
        return self.control("POST", f"/workspaces/{ws}/sdk/change_user",
                            json={"device_id": device_id, "external_id": external_id})

    def sdk_create_users(self, ws: str, users: list[dict[str, Any]]) -> list[str]:
        """``sdk/users`` for each ``{"device_id", "attributes"?}``, in order, in one call
        (``sdk/users/batch``); the ``braze_id`` of each. A target without the batch route (404 or
        405) gets the single calls, so the outcome is the same either way."""
        try:
            return self.control("POST", f"/workspaces/{ws}/sdk/users/batch", json={"users": users})["braze_ids"]
        except HarnessHTTPError as error:
            if error.status not in NO_BATCH_ROUTE:
                raise
        return [self.sdk_create_user(ws, u["device_id"], u.get("attributes")) for u in users]

    def sdk_change_users(self, ws: str, changes: list[dict[str, str]]) -> list[dict[str, Any]]:
        """``sdk/change_user`` for each ``{"device_id", "external_id"}``, in order, in one call
        (``sdk/change_user/batch``): ``[{"braze_id", "outcome"}]``; single calls on a target without it."""
        try:
            return self.control("POST", f"/workspaces/{ws}/sdk/change_user/batch", json={"changes": changes})["results"]
        except HarnessHTTPError as error:
            if error.status not in NO_BATCH_ROUTE:
                raise
        return [self.sdk_change_user(ws, c["device_id"], c["external_id"]) for c in changes]

    def users(self, ws: str) -> list[dict[str, Any]]:
        """``[{"braze_id", "external_id", "aliases", "device_ids"}]``."""
        return self.control("GET", f"/workspaces/{ws}/users")["users"]

    # -- partner cohorts (what the import produced) ----------------------------------------------
    def cohorts(self, ws: str) -> list[dict[str, Any]]:
        """``[{"partner", "cohort_id", "name", "created_at", "member_count"}]``."""
        return self.control("GET", f"/workspaces/{ws}/cohorts")["cohorts"]

    def cohort_members(self, ws: str, cohort_id: str, partner: str = MIXPANEL_PARTNER) -> list[dict[str, Any]]:
        return self.control("GET", f"/workspaces/{ws}/cohorts/{partner}/{cohort_id}/members")["members"]

    def match_log(self, ws: str, cohort_id: str, partner: str = MIXPANEL_PARTNER, outcome: str | None = None,
                  limit: int | None = None) -> list[dict[str, Any]]:
        """``[{"identifier", "kind", "operation", "outcome", "braze_id"}]``, oldest first (a target may
        keep only the newest entries; ``limit`` asks for the newest N)."""
        params = {k: v for k, v in (("outcome", outcome), ("limit", limit)) if v is not None}
        return self.control("GET", f"/workspaces/{ws}/cohorts/{partner}/{cohort_id}/match_log",
                            params=params)["entries"]

    def match_totals(self, ws: str, cohort_id: str, partner: str = MIXPANEL_PARTNER) -> dict[str, int]:
        """Outcome -> count over every identifier ever logged (``matched``, ``unknown_user``,
        ``device_of_identified_user``); counted from the entries when the target gives no totals."""
        reply = self.control("GET", f"/workspaces/{ws}/cohorts/{partner}/{cohort_id}/match_log")
        if isinstance(reply.get("by_outcome"), dict):
            return reply["by_outcome"]
        totals: dict[str, int] = {}
        for entry in reply["entries"]:
            totals[entry["outcome"]] = totals.get(entry["outcome"], 0) + 1
        return totals

    # -- segments and targeting (SEED-5) ---------------------------------------------------------
    def create_segment(self, ws: str, name: str, cohort_id: str, operator: str = "includes_value") -> Segment:
        """A segment with one ``Mixpanel_Cohorts`` filter."""
        body = {"name": name, "filters": [{"type": "mixpanel_cohorts", "operator": operator, "cohort_id": cohort_id}]}
        return self.create(Segment, f"/workspaces/{ws}/segments", json=body)

    def segment_users(self, ws: str, segment_id: str) -> list[dict[str, Any]]:
        return self.control("GET", f"/workspaces/{ws}/segments/{segment_id}/users")["users"]

    def create_campaign(self, ws: str, name: str, segment_id: str) -> Campaign:
        return self.create(Campaign, f"/workspaces/{ws}/campaigns", json={"name": name, "segment_id": segment_id})

    def create_canvas(self, ws: str, name: str, segment_id: str) -> Canvas:
        return self.create(Canvas, f"/workspaces/{ws}/canvases", json={"name": name, "segment_id": segment_id})

    def campaign_audience(self, ws: str, campaign_id: str) -> dict[str, Any]:
        """``{"users": [...], "count": n}``."""
        return self.control("GET", f"/workspaces/{ws}/campaigns/{campaign_id}/audience")

    def canvas_audience(self, ws: str, canvas_id: str) -> dict[str, Any]:
        return self.control("GET", f"/workspaces/{ws}/canvases/{canvas_id}/audience")

    def data_points(self, ws: str) -> dict[str, Any]:
        """``{"total": n, "by_source": {"cohort_import:mixpanel": n, "users.track": n}}``."""
        return self.control("GET", f"/workspaces/{ws}/data_points")

    # -- vendor REST API (Bearer REST API key) ---------------------------------------------------
    def rest(self, api_key: str, path: str, body: Any) -> dict[str, Any]:
        """POST a Braze REST endpoint with ``Authorization: Bearer <api_key>``."""
        return self.request("POST", path, json=body, headers={"Authorization": f"Bearer {api_key}"})

    def users_track(self, api_key: str, attributes: list[dict[str, Any]] | None = None,
                    events: list[dict[str, Any]] | None = None,
                    purchases: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        body = {k: v for k, v in (("attributes", attributes), ("events", events), ("purchases", purchases))
                if v is not None}
        return self.rest(api_key, "/users/track", body)

    def users_identify(self, api_key: str, aliases_to_identify: list[dict[str, Any]]) -> dict[str, Any]:
        """``[{"external_id", "user_alias": {"alias_name", "alias_label"}}]``."""
        return self.rest(api_key, "/users/identify", {"aliases_to_identify": aliases_to_identify})

    def users_alias_new(self, api_key: str, user_aliases: list[dict[str, Any]]) -> dict[str, Any]:
        """``[{"external_id"?, "alias_name", "alias_label"}]``; no external_id: an alias-only user."""
        return self.rest(api_key, "/users/alias/new", {"user_aliases": user_aliases})

    def users_export_ids(self, api_key: str, **query: Any) -> dict[str, Any]:
        """``external_ids=[...]``, ``user_aliases=[...]``, ``device_id=...`` or ``braze_id=...``."""
        return self.rest(api_key, "/users/export/ids", query)

    # -- partner cohort endpoints (what Mixpanel calls; body credentials, no Authorization) -------
    def partner_cohort_name(self, partner_api_key: str, client_secret: str, cohort_id: str, name: str,
                            created_at: str, partner: str = MIXPANEL_PARTNER) -> dict[str, Any]:
        body = {"partner_api_key": partner_api_key, "client_secret": client_secret, "cohort_id": cohort_id,
                "name": name, "created_at": created_at}
        return self.request("POST", f"/partners/{partner}/cohorts", json=body)

    def partner_cohort_users(self, partner_api_key: str, client_secret: str, cohort_id: str,
                             cohort_changes: list[dict[str, Any]], partner: str = MIXPANEL_PARTNER) -> dict[str, Any]:
        body = {"partner_api_key": partner_api_key, "client_secret": client_secret, "cohort_id": cohort_id,
                "cohort_changes": cohort_changes}
        return self.request("POST", f"/partners/{partner}/cohorts/users", json=body)
