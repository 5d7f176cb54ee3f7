"""Braze's wire encoding of a batch (``cohort_changes``)."""
from mocks.mixpanel.cohort_sync.model import ADD, REMOVE, Change, Identifier
from mocks.mixpanel.cohort_sync.wire import cohort_changes


def test_cohort_changes_group_adds_and_removes_by_kind():
    batch = [Change("a", Identifier("external_id", "1"), ADD), Change("b", Identifier("alias", "n", "lbl"), ADD),
             Change("c", Identifier("device_id", "dev"), REMOVE), Change("d", Identifier("external_id", "4"), REMOVE)]
    assert cohort_changes(batch) == [
        {"user_ids": ["1"], "aliases": [{"alias_name": "n", "alias_label": "lbl"}]},
        {"device_ids": ["dev"], "user_ids": ["4"], "should_remove": True},
    ]
