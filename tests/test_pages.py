"""Serving the pages: content types, caching, HEAD, 404 and no path traversal, QR code, join address."""

from __future__ import annotations

import http.client
import json
import re
from typing import Dict, Optional, Tuple

import pytest

from pollhub import PollServer
from pollhub.pages import PAGES, StaticFiles

from .conftest import TIMEOUT


def get(server: PollServer, path: str, method: str = "GET", headers: Optional[Dict[str, str]] = None) -> Tuple[int, Dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    try:
        connection.request(method, path, headers=headers or {})
        reply = connection.getresponse()
        return reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read()
    finally:
        connection.close()


@pytest.mark.parametrize(
    "path, content_type",
    [
        ("/", "text/html; charset=utf-8"),
        ("/present", "text/html; charset=utf-8"),
        ("/static/style.css", "text/css; charset=utf-8"),
        ("/static/transport.js", "text/javascript; charset=utf-8"),
        ("/static/state.js", "text/javascript; charset=utf-8"),
        ("/static/format.js", "text/javascript; charset=utf-8"),
        ("/static/participant.js", "text/javascript; charset=utf-8"),
        ("/static/presenter-app.js", "text/javascript; charset=utf-8"),
        ("/static/qa.css", "text/css; charset=utf-8"),
        ("/static/qa-state.js", "text/javascript; charset=utf-8"),
        ("/static/quiz.css", "text/css; charset=utf-8"),
        ("/static/quiz-state.js", "text/javascript; charset=utf-8"),
    ],
)
def test_pages_and_files(server: PollServer, path: str, content_type: str) -> None:
    status, headers, body = get(server, path)
    assert status == 200
    assert headers["content-type"] == content_type
    assert headers["cache-control"] == "no-cache"
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert int(headers["content-length"]) == len(body) > 0


def test_etag_revalidation(server: PollServer) -> None:
    _, headers, _ = get(server, "/")
    status, _, body = get(server, "/", headers={"If-None-Match": headers["etag"]})
    assert status == 304 and body == b""


def test_head_has_headers_and_no_body(server: PollServer) -> None:
    status, headers, body = get(server, "/static/style.css", method="HEAD")
    assert status == 200 and body == b""
    assert int(headers["content-length"]) > 0


@pytest.mark.parametrize(
    "path",
    [
        "/static/../server.py",
        "/static/%2e%2e/server.py",
        "/static/%2E%2E%2Fserver.py",
        "/static/..%2f..%2fsetup.cfg",
        "/static/%252e%252e/server.py",
        "/static/",
        "/static/nope.js",
        "/static/.hidden",
        "/static/style.css/",
        "/static/%ff.css",
        "/index.html",
        "/../setup.cfg",
        "/favicon.ico",
    ],
)
def test_unknown_paths_and_traversal_are_404(server: PollServer, path: str) -> None:
    status, _, body = get(server, path)
    assert status == 404
    assert b"import" not in body and b"[metadata]" not in body


def test_post_to_a_page_is_405(server: PollServer) -> None:
    status, headers, _ = get(server, "/", method="POST")
    assert status == 405 and "GET" in headers["allow"]


def test_join_address_and_qr_code(server: PollServer) -> None:
    status, headers, body = get(server, "/join.json")
    assert status == 200 and headers["content-type"] == "application/json"
    url = json.loads(body)["url"]
    assert url == f"http://127.0.0.1:{server.port}/"
    status, headers, body = get(server, "/qr.svg")
    assert status == 200 and headers["content-type"] == "image/svg+xml"
    assert body.lstrip().startswith(b"<svg") and url.encode() in body  # the title names the address


def test_every_packaged_page_exists() -> None:
    assets = StaticFiles().assets
    for name in PAGES.values():
        assert name in assets
    assert not any(name.startswith(".") for name in assets)


def test_every_module_a_page_imports_is_served() -> None:
    """The pages are ES modules: every script they load and every module those import is an asset."""
    assets = StaticFiles().assets
    wanted = set()
    for page in PAGES.values():
        html = assets[page].body.decode()
        wanted.update(re.findall(r'<script type="module" src="/static/([^"]+)"', html))
        assert "<script src=" not in html  # no classic scripts left
    seen = set()
    while wanted - seen:
        name = (wanted - seen).pop()
        seen.add(name)
        assert name in assets, name
        assert assets[name].content_type == "text/javascript; charset=utf-8"
        wanted.update(re.findall(r'from "\./([^"]+)"', assets[name].body.decode()))
    assert {"transport.js", "state.js", "format.js", "limits.js", "charts.js", "presenter-list.js"} <= seen
    assert {"qa-state.js", "qa-participant.js", "qa-presenter.js"} <= seen
    assert {"quiz-state.js", "quiz-participant.js", "quiz-presenter.js"} <= seen
