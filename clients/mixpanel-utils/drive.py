"""Drive ``mixpanel-utils`` (its hosts are hard-coded: run with HTTPS_PROXY and SSL_CERT_FILE of
``cohort-harness proxy``). Usage: ``python drive.py CONFIG_JSON`` with CONFIG {project_id, username,
secret, token, events, from_date, to_date, output}; prints one JSON object: what each call returned."""
import json
import sys

from mixpanel_utils import MixpanelUtils


def main():
    config = json.loads(sys.argv[1])
    mp = MixpanelUtils(config["secret"], token=config["token"], service_account_username=config["username"],
                       project_id=config["project_id"], pool_size=1, max_retries=1)
    mp.import_events(config["events"], timezone_offset=0)
    mp.export_events(config["output"], {"from_date": config["from_date"], "to_date": config["to_date"]})
    with open(config["output"], encoding="utf-8") as exported:
        events = json.load(exported)
    engage = mp.query_engage({"where": 'properties["plan"] == "pro"'})
    cohorts = mp.request(mp.formatted_api, ["cohorts", "list"], {})
    print(json.dumps({"exported": events, "engage": engage, "cohorts": json.loads(cohorts)}))


if __name__ == "__main__":
    main()
