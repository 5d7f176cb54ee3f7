"""Raw export corrections: ``to_date`` later than today, ``mp_processing_time_ms``, gzip on request."""
import gzip
import json

from .conftest import NOW_S, event, import_url, sa


def export(api, proj, headers=None, **params):
    query = {"project_id": proj["project_id"], "from_date": "2025-12-31", "to_date": "2026-01-01", **params}
    return api.get("/api/2.0/export", query_string=query, auth=sa(proj), headers=headers or {})


def test_to_date_later_than_the_mock_clocks_today_is_a_400(api, proj):
    reply = export(api, proj, to_date="2026-01-02")
    assert (reply.status_code, reply.json) == (400, {
        "request": f"/api/2.0/export?project_id={proj['project_id']}&from_date=2025-12-31&to_date=2026-01-02",
        "error": "to_date cannot be later than today"})
    assert export(api, proj).status_code == 200


def test_each_line_carries_mp_processing_time_ms_and_gzip_is_on_request(api, proj):
    assert api.post(import_url(proj), json=[event("Buy", NOW_S - 60)], auth=sa(proj)).status_code == 200
    plain = export(api, proj)
    assert "Content-Encoding" not in plain.headers
    [line] = [json.loads(text) for text in plain.data.decode().splitlines()]
    assert line["properties"]["mp_processing_time_ms"] == (NOW_S - 60) * 1000
    zipped = export(api, proj, headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
