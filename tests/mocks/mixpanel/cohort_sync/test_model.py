"""The model of the cohort sync: identifiers (HOUSE-6), the connection, the snapshot, the record
and the export's schedule."""
from datetime import timedelta

import pytest

from mocks.mixpanel.cohort_sync.model import (BrazeConnection, CohortExport, CohortSnapshot, Identifier,
                                              SyncRecord)

from .fakes import FULL_MAPPING, T0, connection


@pytest.mark.parametrize("distinct_id, properties, expected", [
    ("u1", {"$braze_external_id": "ext-1", "mp_alias": "a1", "braze_device": "dev"}, Identifier("external_id", "ext-1")),
    ("u1", {"mp_alias": "a1", "braze_device": "dev"}, Identifier("alias", "a1", "mp_id")),
    ("$device:dev", {"braze_device": "dev"}, Identifier("device_id", "dev")),
    ("u1", {"braze_device": "dev"}, None),  # identified in Mixpanel: never sent by device id (SEED-6.3)
    ("u1", {"$braze_external_id": 42}, Identifier("external_id", "42")),
    ("u1", {"$braze_external_id": ""}, None),
    ("u1", {"$braze_external_id": True}, None),
    ("u1", {"$braze_external_id": ["x"]}, None),
    ("u1", {}, None),
])
def test_first_present_identifier_wins(distinct_id, properties, expected):
    assert connection(**FULL_MAPPING).identifier_for(distinct_id, properties) == expected


def test_custom_user_id_property_and_no_alias_without_mapping():
    conn = connection(user_id_property="crm_id")
    assert conn.identifier_for("u1", {"crm_id": "c-9", "$braze_external_id": "x"}) == Identifier("external_id", "c-9")
    assert conn.identifier_for("u1", {"$braze_external_id": "x", "mp_alias": "a"}) is None


def test_connection_listing_masks_keys_but_state_keeps_them():
    conn = connection()
    assert conn.to_dict()["data_import_key"] == "****7890"
    assert BrazeConnection.from_dict(conn.to_dict(reveal_secrets=True)) == conn


def test_snapshot_age_counts_from_the_last_completed_sync():
    snapshot = CohortSnapshot()
    assert not snapshot.is_stale(T0 + timedelta(days=30), timedelta(days=3))
    snapshot.complete(T0)
    assert not snapshot.is_stale(T0 + timedelta(days=3), timedelta(days=3))
    assert snapshot.is_stale(T0 + timedelta(days=3, seconds=1), timedelta(days=3))


def test_snapshot_round_trips_through_json_shapes():
    snapshot = CohortSnapshot({Identifier("alias", "n", "lbl"): "d"}, {Identifier("external_id", "x"): "e"}, T0, T0, "N")
    assert CohortSnapshot.from_dict(snapshot.to_dict()) == snapshot


def test_export_schedule_grid_and_settle():
    export = CohortExport(1, 1, 7, 1, "dynamic", timedelta(minutes=15), T0)
    assert export.next_slot_after(T0) == T0 + timedelta(minutes=15)
    assert export.next_slot_after(T0 + timedelta(minutes=31)) == T0 + timedelta(minutes=45)
    failed = SyncRecord(T0 + timedelta(minutes=15), T0, "schedule", result="failed", error="busy")
    export.settle(failed)
    assert (export.status, export.error, export.next_sync_at) == ("active", "busy", T0 + timedelta(minutes=30))
    export.settle(SyncRecord(T0, T0, "run", result="paused", error="Invalid client secret"))
    assert (export.status, export.next_sync_at) == ("paused", None)


def test_one_time_export_finishes_only_when_delivered():
    export = CohortExport(1, 1, 7, 1, "one_time", timedelta(minutes=15), T0)
    export.settle(SyncRecord(T0, T0, "create", result="failed", error="busy"))
    assert (export.status, export.next_sync_at) == ("active", T0 + timedelta(minutes=15))
    export.settle(SyncRecord(T0 + timedelta(minutes=15), T0, "schedule"))
    assert (export.status, export.next_sync_at, export.error) == ("finished", None, None)


def test_history_is_bounded_but_counted():
    export = CohortExport(1, 1, 7, 1, "dynamic", timedelta(minutes=15), T0)
    for minute in range(5):
        export.remember(SyncRecord(T0 + timedelta(minutes=minute), T0, "schedule"), keep=3)
    assert export.sync_count == 5 and [r.scheduled_at.minute for r in export.syncs] == [2, 3, 4]
    assert CohortExport.from_dict(export.to_dict()).to_dict() == export.to_dict()
