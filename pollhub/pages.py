"""The web pages: the files in ``pollhub/static/``, served on the same port as ``/ws``.

``/`` is the participant page, ``/present`` the presenter page and
``/static/NAME`` their scripts and styles. The files are package data, read
once at start; a request can only name one of them (no path is ever joined,
so ``/../`` and its encoded forms find nothing). Responses carry their content
type, an ``ETag`` for cheap revalidation, ``Cache-Control: no-cache`` and a
content security policy that allows nothing from other origins.
"""

from __future__ import annotations

import hashlib
import re
from importlib import resources
from typing import Dict, NamedTuple, Optional
from urllib.parse import unquote

from .handshake import Request, response

PAGES = {"/": "index.html", "/present": "present.html"}
STATIC_PREFIX = "/static/"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9]+)+")


class Asset(NamedTuple):
    body: bytes
    content_type: str
    etag: str


def load_assets(package: str = "pollhub", folder: str = "static") -> Dict[str, Asset]:
    """Every file of the package's static folder, by name."""
    assets: Dict[str, Asset] = {}
    root = resources.files(package) / folder
    for entry in root.iterdir():
        name = entry.name
        suffix = name[name.rfind(".") :] if "." in name else ""
        if not entry.is_file() or not _NAME.fullmatch(name) or suffix not in CONTENT_TYPES:
            continue
        body = entry.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        assets[name] = Asset(body, CONTENT_TYPES[suffix], etag)
    return assets


class StaticFiles:
    """Answers requests for the pages and their files; everything else is left to the caller."""

    def __init__(self, assets: Optional[Dict[str, Asset]] = None) -> None:
        self.assets = load_assets() if assets is None else assets

    def lookup(self, path: str) -> Optional[Asset]:
        """The asset a request path names, or None."""
        if path in PAGES:
            return self.assets.get(PAGES[path])
        if path.startswith(STATIC_PREFIX):
            name = unquote(path[len(STATIC_PREFIX) :], errors="strict")
            if _NAME.fullmatch(name):
                return self.assets.get(name)
        return None

    def response(self, request: Request) -> Optional[bytes]:
        """The HTTP response for a page or a static file, or None if the path names none."""
        try:
            asset = self.lookup(request.path)
        except UnicodeDecodeError:
            return None
        if asset is None:
            return None
        if request.method not in ("GET", "HEAD"):
            return response(405, b"use GET\n", headers={"Allow": "GET, HEAD"})
        headers = {"ETag": asset.etag, "Cache-Control": "no-cache", **SECURITY_HEADERS}
        if asset.etag in (t.strip() for t in request.headers.get("if-none-match", "").split(",")):
            return response(304, headers=headers, head_only=True)
        return response(200, asset.body, asset.content_type, headers, head_only=request.method == "HEAD")
