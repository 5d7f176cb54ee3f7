"""``harness.proxy``: plain ``requests`` calls to the vendors' real hosts reach the mocks through the proxy
and its local CA; any other host is refused; the CA's keys stay in their cache folder."""
from __future__ import annotations

import stat
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from harness.proxy import LocalCA, ProxyServer, Upstreams, ca_folder
from mocks.braze import create_app as create_braze
from mocks.common import ServerThread
from mocks.mixpanel import create_app as create_mixpanel


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("cache") / "proxy-ca"
    with ServerThread(create_mixpanel()) as mixpanel, ServerThread(create_braze()) as braze:
        with ProxyServer(Upstreams(mixpanel.url, braze.url), LocalCA(folder)) as proxy:
            yield {"proxies": {"https": proxy.url, "http": proxy.url}, "verify": str(folder / "ca.pem"),
                   "folder": folder, "mixpanel": mixpanel.url}


def test_a_plain_https_get_to_api_mixpanel_com_reaches_the_mock(proxied):
    reply = requests.get("https://api.mixpanel.com/api/query/cohorts/list?project_id=1",
                         proxies=proxied["proxies"], verify=proxied["verify"], timeout=10)
    assert (reply.status_code, reply.json()) == (401, {"request": "/api/query/cohorts/list?project_id=1",
                                                       "error": "Invalid credentials"})


def test_a_project_made_through_the_proxy_is_the_mocks_own(proxied):
    made = requests.post("https://api-eu.mixpanel.com/_harness/projects", json={"name": "via proxy"},
                         proxies=proxied["proxies"], verify=proxied["verify"], timeout=10).json()
    direct = requests.get(f"{proxied['mixpanel']}/_harness/projects/{made['project_id']}").json()
    assert direct["name"] == "via proxy"
    export = requests.get("https://data.mixpanel.com/api/2.0/export", params={
        "project_id": made["project_id"], "from_date": "2025-12-01", "to_date": "2025-12-31"},
        auth=(made["service_account"]["username"], made["service_account"]["secret"]),
        proxies=proxied["proxies"], verify=proxied["verify"], timeout=10)
    assert (export.status_code, export.text) == (200, "")


def test_braze_rest_hosts_reach_the_braze_mock(proxied):
    reply = requests.post("https://rest.fra-02.braze.eu/users/track", json={},
                          proxies=proxied["proxies"], verify=proxied["verify"], timeout=10)
    assert reply.status_code == 401 and "message" in reply.json()


@pytest.mark.parametrize("url", ["https://example.com/", "https://mixpanel.com.evil.test/api/x",
                                 "https://rest.iad-01.braze.com.example.org/"])
def test_any_other_https_host_is_refused_at_connect(proxied, url):
    with pytest.raises(requests.exceptions.ProxyError, match="403"):
        requests.get(url, proxies=proxied["proxies"], verify=proxied["verify"], timeout=10)


def test_plain_http_to_another_host_or_the_web_app_is_refused(proxied):
    for url in ("http://example.com/", "http://mixpanel.com/report/1"):
        reply = requests.get(url, proxies=proxied["proxies"], timeout=10)
        assert reply.status_code == 403 and "refused" in reply.text
    inside = requests.get("https://mixpanel.com/report", proxies=proxied["proxies"], verify=proxied["verify"],
                          timeout=10)
    assert inside.status_code == 403


def test_keys_stay_private_in_the_cache_folder(proxied):
    folder: Path = proxied["folder"]
    keys = [folder / "ca-key.pem", *sorted((folder / "leaves").glob("*.pem"))]
    assert len(keys) >= 2
    for path in keys:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" not in (folder / "ca.pem").read_bytes()


def test_the_ca_is_made_once_and_reused(tmp_path):
    first = LocalCA(tmp_path).cert_path.read_bytes()
    assert LocalCA(tmp_path).cert_path.read_bytes() == first


def test_cache_folder_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("COHORT_HARNESS_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert ca_folder() == tmp_path / "cohort-harness" / "proxy-ca"


def test_the_proxy_command_prints_its_url_ca_and_trust_variables(tmp_path):
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "COHORT_HARNESS_CACHE": str(tmp_path)}
    with ServerThread(create_mixpanel()) as mixpanel:
        command = [sys.executable, "-m", "harness.cli", "proxy", "--port", "0", "--json", "--mixpanel-url", mixpanel.url]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
        try:
            assert process.stdout is not None
            lines = [process.stdout.readline()]
            while lines[-1] not in ("}\n", ""):  # the JSON object printed with an indent, closed at column 0
                lines.append(process.stdout.readline())
            printed = json.loads("".join(lines))
            ca = str(tmp_path / "proxy-ca" / "ca.pem")
            assert printed["ca_certificate"] == ca
            assert {key: printed["environment"][key] for key in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE",
                                                                "NODE_EXTRA_CA_CERTS")} == dict.fromkeys(
                ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"), ca)
            reply = requests.get("https://api.mixpanel.com/_harness/projects", verify=ca, timeout=10,
                                 proxies={"https": printed["proxy_url"]})
            assert (reply.status_code, reply.json()) == (200, {"projects": []})
        finally:
            process.terminate()
            assert process.wait(timeout=10) == 0
