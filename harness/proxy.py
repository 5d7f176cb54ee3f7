"""``cohort-harness proxy``: an HTTP(S) proxy on 127.0.0.1 that answers for Mixpanel's and Braze's hosts
by routing them to the mocks, and passes nothing else anywhere (moto's proxy mode is the model).

Why: some real clients hard-code the vendor's hosts (the official Python client's ``alias()``, Airbyte's
Mixpanel source knows only "US" and "EU"). Pointed at this proxy (``HTTPS_PROXY``) and trusting its local
CA, they reach the mocks unmodified. ``CONNECT`` to any other host is refused with 403, and so is a plain
HTTP request for one: the proxy never opens a connection outside 127.0.0.1.

The CA is made once with ``cryptography`` and kept in a user cache folder (``ca_folder()``); its key and
every leaf key stay in that folder (mode 0600) and are never sent or printed, only the CA certificate's path.
"""
from __future__ import annotations

import datetime as dt
import errno
import http.client
import ipaddress
import os
import re
import socketserver
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mocks.common.server import PortInUseError

MIXPANEL_HOSTS = frozenset({"api.mixpanel.com", "api-eu.mixpanel.com", "data.mixpanel.com", "data-eu.mixpanel.com"})
#: Hosts that serve Mixpanel's APIs only under ``/api`` (the rest of them is the web app).
MIXPANEL_API_PATH_HOSTS = frozenset({"mixpanel.com", "eu.mixpanel.com"})
BRAZE_HOST = re.compile(r"rest\.[a-z0-9-]+\.braze\.(com|eu)")
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
                        "te", "trailer", "transfer-encoding", "upgrade", "content-length"})
CA_NAME = "cohort-harness local CA"
#: The name a TLS front presents (with IP 127.0.0.1): for clients that demand https but let the host be set.
FRONT_NAME = "localhost"


def ca_folder() -> Path:
    """``$COHORT_HARNESS_CACHE`` or ``$XDG_CACHE_HOME/cohort-harness`` (default ``~/.cache``), then ``proxy-ca``."""
    base = os.environ.get("COHORT_HARNESS_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "cohort-harness")
    return Path(base) / "proxy-ca"


@dataclass(frozen=True)
class Upstreams:
    """Where each vendor's requests go: the base URLs of the running mocks."""

    mixpanel: str
    braze: str

    def route(self, host: str, path: str) -> str | None:
        """The mock that answers ``host`` + ``path``, or None when the proxy must refuse it."""
        host = host.lower().rstrip(".")
        if host in MIXPANEL_HOSTS or (host in MIXPANEL_API_PATH_HOSTS and (path == "/api" or path.startswith("/api/"))):
            return self.mixpanel
        if BRAZE_HOST.fullmatch(host):
            return self.braze
        return None


class LocalCA:
    """A CA made once in ``folder`` and leaf certificates minted from it per host (cached on disk)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.cert_path = folder / "ca.pem"
        self._key_path = folder / "ca-key.pem"
        self._lock = threading.Lock()
        self._contexts: dict[str, ssl.SSLContext] = {}
        with self._lock:
            if not (self.cert_path.exists() and self._key_path.exists()):
                self._create()
        self._key = serialization.load_pem_private_key(self._key_path.read_bytes(), None)
        self._cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())

    def _create(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)])
        cert = (_builder(name, name, key.public_key(), days=3650)
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                             content_commitment=False, key_encipherment=False, data_encipherment=False,
                                             key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))
        _write_private(self._key_path, _key_pem(key))
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    def context_for(self, host: str) -> ssl.SSLContext:
        """A server-side TLS context presenting a leaf certificate for ``host``."""
        with self._lock:
            if host not in self._contexts:
                path = self._leaf(host)
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(path)
                self._contexts[host] = context
            return self._contexts[host]

    def _leaf(self, host: str) -> Path:
        path = self.folder / "leaves" / f"{host}.pem"
        if path.exists():
            return path
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
        ca_key = self._key
        assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
        names: list[x509.GeneralName] = [x509.DNSName(host)]
        if host == FRONT_NAME:
            names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
        cert = (_builder(subject, self._cert.subject, key.public_key(), days=397)
                .add_extension(x509.SubjectAlternativeName(names), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
                .sign(ca_key, hashes.SHA256()))
        path.parent.mkdir(exist_ok=True, mode=0o700)
        _write_private(path, cert.public_bytes(serialization.Encoding.PEM) + _key_pem(key))
        return path


def _builder(subject: x509.Name, issuer: x509.Name, public_key: Any, days: int) -> x509.CertificateBuilder:
    """Validity counts on the wall clock: TLS clients check certificates against it, not the mock's clock."""
    now = dt.datetime.now(dt.timezone.utc)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=days)))


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


class _Handler(BaseHTTPRequestHandler):
    """One client connection: ``CONNECT`` opens a TLS tunnel that this handler itself terminates,
    then each request inside it (or a plain absolute-URI request) is forwarded to its mock."""

    protocol_version = "HTTP/1.1"
    server: "ProxyServer"
    tunnel_host: str | None = None

    def setup(self) -> None:
        """A TLS front speaks TLS from the first byte and takes every request as sent to its vendor host."""
        front = self.server.front_host
        if front:
            self.request = self.server.ca.context_for(FRONT_NAME).wrap_socket(self.request, server_side=True)
            self.tunnel_host = front
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:  # the mocks' journals record the requests
        pass

    def do_CONNECT(self) -> None:
        host, _, _ = self.path.partition(":")
        if not self._answers_for(host):
            self._refuse(host)
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        try:
            tls = self.server.ca.context_for(host.lower()).wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True
            return
        self.connection, self.tunnel_host = tls, host.lower()
        self.rfile, self.wfile = tls.makefile("rb"), tls.makefile("wb")
        self.close_connection = False

    def _answers_for(self, host: str) -> bool:
        """A CONNECT is let through for any host with a route on some path (the path is checked per request)."""
        return self.server.upstreams.route(host, "/api/") is not None

    def _forward(self) -> None:
        host, path = self._target()
        upstream = self.server.upstreams.route(host, urlsplit(path).path) if host else None
        if host is None or upstream is None:
            self._refuse(host or "(no host)")
            return
        body = self._request_body()
        target = urlsplit(upstream)
        connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=60)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["X-Forwarded-Host"] = host
            connection.request(self.command, path, body=body, headers=headers)
            reply = connection.getresponse()
            self._answer(reply.status, reply.reason, reply.getheaders(), reply.read())
        except OSError as exc:
            self._answer(502, "Bad Gateway", [("Content-Type", "text/plain")], f"mock unreachable: {exc}\n".encode())
        finally:
            connection.close()

    def _target(self) -> tuple[str | None, str]:
        if self.tunnel_host:
            return self.tunnel_host, self.path
        parts = urlsplit(self.path)
        if parts.scheme != "http" or not parts.hostname:
            return None, self.path
        return parts.hostname, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def _request_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._chunked_body()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else None

    def _chunked_body(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _refuse(self, host: str) -> None:
        message = (f"cohort-harness proxy answers only for Mixpanel's and Braze's hosts; {host} is refused "
                   f"(nothing is passed anywhere else)\n").encode()
        self._answer(403, "Forbidden", [("Content-Type", "text/plain; charset=utf-8")], message)
        self.close_connection = True

    def _answer(self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status, reason)
        for key, value in headers:
            if key.lower() not in HOP_BY_HOP and key.lower() not in ("server", "date"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _forward


class ProxyServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """The proxy on 127.0.0.1 (only); ``with ProxyServer(upstreams, ca) as proxy: proxy.url``.

    With ``front_host`` (e.g. ``api.mixpanel.com``) it is a TLS front instead: ``https://localhost:<port>``
    answers as that host does. The official Node client needs it: its ``import()`` refuses service-account
    credentials over http, and its HTTPS_PROXY support fails (see docs/clients.md)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, upstreams: Upstreams, ca: LocalCA, port: int = 0, front_host: str | None = None):
        self.upstreams, self.ca, self.front_host = upstreams, ca, front_host
        try:
            super().__init__(("127.0.0.1", port), _Handler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:  # the user's choice of port: exit 2, like serve's
                raise PortInUseError(errno.EADDRINUSE, f"port {port} on 127.0.0.1 is already in use") from None
            raise
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        scheme, host = ("https", FRONT_NAME) if self.front_host else ("http", "127.0.0.1")
        return f"{scheme}://{host}:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that drops the connection or fails the TLS handshake is no error of the proxy's."""

    def start(self) -> "ProxyServer":
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def __enter__(self) -> "ProxyServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def trust_environment(proxy_url: str, ca_path: Path) -> dict[str, str]:
    """The variables that make each ecosystem use the proxy and trust its CA (docs/clients.md)."""
    ca = str(ca_path)
    return {"HTTPS_PROXY": proxy_url, "HTTP_PROXY": proxy_url, "NO_PROXY": "127.0.0.1,localhost",
            "REQUESTS_CA_BUNDLE": ca, "SSL_CERT_FILE": ca, "NODE_EXTRA_CA_CERTS": ca, "CURL_CA_BUNDLE": ca}
