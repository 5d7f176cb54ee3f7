"""Generate then replay on the real mocks: the rules model and the mocks agree; a wrong expectation
fails with a readable diff; --update records what was observed."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.worlds import generate_world

REPO_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def replay(*args: str):
    return CliRunner().invoke(main, ["replay", *args], catch_exceptions=False)


def test_bundled_worlds_replay():
    result = replay("demo", "retention_boundary", "match_external_id", "match_alias", "match_device",
                    "churn_dynamic", "rename", "key_invalidation", "one_time", "generated_s7")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "10 passed, 0 failed"


@pytest.mark.parametrize("seed, users, events, steps", [(1, 10, 40, 2), (2, 60, 300, 4), (3, 150, 900, 6),
                                                        (4, 300, 2500, 3)])
def test_generate_then_replay_passes(tmp_path, seed, users, events, steps):
    path = tmp_path / "world.json"
    generated = CliRunner().invoke(main, ["generate", "--seed", str(seed), "--users", str(users), "--events",
                                          str(events), "--steps", str(steps), "-o", str(path)])
    assert generated.exit_code == 0, generated.output
    result = replay(str(path))
    assert result.exit_code == 0, result.output


def test_a_wrong_expectation_fails_with_a_readable_diff(tmp_path):
    world = generate_world(5, 40, 200)
    last = world["expected"]["syncs"][-1]
    dropped = last["members"].pop(0)
    last["members"].append("ghost")
    last["data_points"] += 1
    path = tmp_path / "wrong.json"
    path.write_text(json.dumps(world))
    result = replay(str(path))
    assert result.exit_code == 1
    step = len(world["expected"]["syncs"]) - 1
    n = len(last["members"])
    assert result.output.splitlines() == [
        f"FAIL {path} ({world['name']}, {step + 1} checkpoints)",
        f"    checkpoint {step} (after step {step}): members: expected {n}, observed {n}; "
        f"missing [ghost]; unexpected [{dropped}]",
        f"    checkpoint {step} (after step {step}): data_points: expected {last['data_points']}, "
        f"observed {last['data_points'] - 1}",
    ]


def test_update_records_the_observed_outcome(tmp_path):
    world = generate_world(6, 20, 80)
    original = world.pop("expected")
    path = tmp_path / "new.json"
    path.write_text(json.dumps(world))
    assert replay(str(path), "--update").exit_code == 0
    assert json.loads(path.read_text())["expected"] == original
    assert replay(str(path)).exit_code == 0


def test_replay_json():
    result = replay("one_time", "--json")
    report = json.loads(result.output)
    assert result.exit_code == 0 and report["passed"] is True
    assert report["worlds"][0] == {"world": "one-time", "source": "bundled:one_time", "passed": True,
                                   "checkpoints": 2, "differences": [], "updated": False}


def test_update_rewrites_only_expected_keeping_the_rest_byte_for_byte(tmp_path):
    """A hand-written world (its own spacing, key order, unicode) keeps every byte outside ``expected``."""
    source = (REPO_FIXTURES / "one_time.json").read_text(encoding="utf-8")
    world = json.loads(source)
    head, _, _ = source.partition('"expected"')
    stale = json.loads(json.dumps(world["expected"]))
    stale["syncs"][-1]["data_points"] += 1
    stale_text = json.dumps(stale, separators=(",", ":"))
    hand_written = head.rstrip().rstrip(",").replace(
        '"name": "one-time",', '"name":   "one-time"  ,\n  "expected"  :  ' + stale_text + '  ,') .replace('"description": "', '"description": "Gardé à la main: ') + "\n}\n"
    path = tmp_path / "hand.json"
    path.write_text(hand_written, encoding="utf-8")
    assert replay(str(path)).exit_code == 1
    result = replay(str(path), "--update")
    assert result.exit_code == 0, result.output
    updated = path.read_text(encoding="utf-8")
    before, _, after = hand_written.partition(stale_text)
    assert updated.startswith(before) and updated.endswith(after)
    assert json.loads(updated)["expected"] == world["expected"]
    assert replay(str(path)).exit_code == 0


def test_update_of_a_world_without_expected_appends_it_and_keeps_the_rest(tmp_path):
    world = generate_world(6, 20, 80)
    original = world.pop("expected")
    text = json.dumps(world, indent=3) + "\n"
    path = tmp_path / "new.json"
    path.write_text(text)
    assert replay(str(path), "--update").exit_code == 0
    updated = path.read_text()
    assert updated.startswith(text.rstrip()[:-1].rstrip())  # everything up to the closing brace
    assert json.loads(updated)["expected"] == original


def test_import_ready_passes_ready_events_as_they_are_and_never_changes_the_world():
    import copy

    from harness.worlds.runner import import_ready

    ready = {"event": "Buy", "properties": {"time": 1767225600, "distinct_id": "u1", "$insert_id": "i-1"}}
    iso = {"event": "Buy", "properties": {"time": "2026-01-01T00:00:00Z", "distinct_id": "u1", "$insert_id": "i-2"}}
    bare = {"event": "Buy", "properties": {"time": 1767225600, "distinct_id": "u2"}}
    events = [ready, iso, bare]
    before = copy.deepcopy(events)
    out = import_ready(events, "salt")
    assert out[0] is ready  # no copy of an event that needs no change
    assert out[1]["properties"] == {**iso["properties"], "time": 1767225600}
    assert out[2]["properties"]["$insert_id"] == import_ready(events, "salt")[2]["properties"]["$insert_id"]
    assert len(out[2]["properties"]["$insert_id"]) == 32
    assert events == before
