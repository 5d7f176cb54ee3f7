"""Drive the official ``mixpanel`` client as its own user would, from its own venv.

Usage: ``python drive.py CONFIG_JSON``; CONFIG has ``url`` (the mock; empty to use the client's own
hosts, reached through ``cohort-harness proxy``), ``token``, ``project_id``, ``username``, ``secret`` and
``calls`` (names below). Prints one JSON line per call: ``{"call": name, "ok": bool, "error": str}``.
Nothing here changes the library: only its documented constructor arguments are used.
"""
import json
import sys
import time

from mixpanel import BufferedConsumer, Consumer, Mixpanel, MixpanelException, ServiceAccountCredentials


def client(config, consumer_class=Consumer):
    credentials = ServiceAccountCredentials(config["username"], config["secret"], str(config["project_id"]))
    url = config["url"]
    urls = {"events_url": url + "/track", "people_url": url + "/engage", "import_url": url + "/import",
            "groups_url": url + "/groups"} if url else {}
    return Mixpanel(config["token"], consumer=consumer_class(credentials=credentials, **urls))


def calls(mp, config):
    month_ago = int(time.time()) - 30 * 86400
    return {
        "track": lambda: mp.track("alice", "Purchase", {"amount": 5}),
        "import_data": lambda: mp.import_data(None, "bob", "Purchase", month_ago, {"amount": 7}),
        "merge": lambda: mp.merge(None, "alice", "alice-device"),
        "alias": lambda: mp.alias("alice-alias", "alice"),
        "people_set": lambda: mp.people_set("alice", {"plan": "pro", "name": "Alice"}),
        "people_set_once": lambda: mp.people_set_once("alice", {"plan": "free", "first_seen": "2026-01-01"}),
        "people_increment": lambda: mp.people_increment("alice", {"logins": 2}),
        "people_append": lambda: mp.people_append("alice", {"tags": "a"}),
        "people_union": lambda: mp.people_union("alice", {"tags": ["a", "b"]}),
        "people_remove": lambda: mp.people_remove("alice", {"tags": "a"}),
        "people_unset": lambda: mp.people_unset("alice", ["name"]),
        "people_track_charge": lambda: mp.people_track_charge("alice", 9.5),
        "people_clear_charges": lambda: mp.people_clear_charges("alice"),
        "people_delete": lambda: mp.people_delete("carol"),
        "group_set": lambda: mp.group_set("company", "acme", {"tier": "gold"}),
        "group_set_once": lambda: mp.group_set_once("company", "acme", {"since": 2020}),
        "group_union": lambda: mp.group_union("company", "acme", {"regions": ["eu"]}),
        "group_remove": lambda: mp.group_remove("company", "acme", {"regions": "eu"}),
        "group_unset": lambda: mp.group_unset("company", "acme", ["since"]),
        "group_delete": lambda: mp.group_delete("company", "gone"),
        "buffered_track": lambda: buffered(config),
    }


def buffered(config):
    mp = client(config, BufferedConsumer)
    for i in range(60):
        mp.track(f"user-{i}", "Open")
    mp._consumer.flush()


def main():
    config = json.loads(sys.argv[1])
    mp = client(config)
    table = calls(mp, config)
    for name in config["calls"]:
        try:
            table[name]()
            print(json.dumps({"call": name, "ok": True, "error": ""}), flush=True)
        except MixpanelException as exc:
            print(json.dumps({"call": name, "ok": False, "error": str(exc)}), flush=True)


if __name__ == "__main__":
    main()
