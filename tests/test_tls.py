"""TLS: wss:// and https:// through an ssl.SSLContext (ssl.wrap_socket is gone since 3.12)."""

from __future__ import annotations

import http.client
import shutil
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Iterator, Tuple

import pytest

from pollhub import Hub, PollClient, PollServer
from pollhub.connection import tls_context

from .conftest import TIMEOUT
from .processes import Process

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=TIMEOUT,
    )  # fmt: skip
    return cert, key


def client_context(cert: Path) -> ssl.SSLContext:
    """A client context that trusts the test certificate (and checks the host name)."""
    return ssl.create_default_context(cafile=str(cert))


@pytest.fixture
def tls_server(hub: Hub, certificate: Tuple[Path, Path]) -> Iterator[PollServer]:
    cert, key = certificate
    with PollServer(hub, port=0, token="secret", ssl_context=tls_context(str(cert), str(key))) as server:
        yield server


def test_wss_vote(hub: Hub, tls_server: PollServer, certificate: Tuple[Path, Path]) -> None:
    hub.create_poll("Secure?", ["Yes", "No"])
    assert tls_server.url.startswith("wss://127.0.0.1:")
    with PollClient(tls_server.url, voter="ann", ssl_context=client_context(certificate[0]), timeout=TIMEOUT) as client:
        assert client.vote("yes") == "yes"
        client.wait_for(lambda c: c.results()["yes"] == 1)
    assert hub.results() == {"yes": 1, "no": 0}


def test_https_healthz(tls_server: PollServer, certificate: Tuple[Path, Path]) -> None:
    connection = http.client.HTTPSConnection(
        "127.0.0.1", tls_server.port, timeout=TIMEOUT, context=client_context(certificate[0])
    )
    try:
        connection.request("GET", "/healthz")
        assert connection.getresponse().status == 200
    finally:
        connection.close()


def test_plain_client_on_tls_port_is_dropped_quietly(tls_server: PollServer) -> None:
    """A client speaking plain HTTP to the TLS port fails the handshake; the server goes on."""
    connection = http.client.HTTPConnection("127.0.0.1", tls_server.port, timeout=TIMEOUT)
    try:
        connection.request("GET", "/healthz")
        with pytest.raises((http.client.HTTPException, ConnectionError)):
            connection.getresponse()
    finally:
        connection.close()
    assert tls_server.hub.running


def test_cli_serves_tls(certificate: Tuple[Path, Path]) -> None:
    cert, key = certificate
    server = Process.pollhub("--host", "127.0.0.1", "--port", "0", "--certfile", str(cert), "--keyfile", str(key))
    try:
        url = server.expect(r"listening on (wss://\S+)").group(1)
        with PollClient(url, ssl_context=client_context(cert), timeout=TIMEOUT) as client:
            assert client.polls() == []
        finished = server.stop()
    finally:
        server.kill()
    assert finished.returncode == 0, finished.stderr


def test_cli_reports_a_bad_certificate(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    result = subprocess.run(
        [sys.executable, "-m", "pollhub", "--port", "0", "--certfile", str(missing)],
        capture_output=True, text=True, timeout=TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 2
    assert "cannot load the TLS certificate" in result.stderr
    assert "Traceback" not in result.stderr
