"""The HTTP side of a connection, with no I/O: parse a request, build responses.

Every request gets a real HTTP answer: the WebSocket upgrade (101), or an
error a person or a script can read (400, 404, 426, 503, ...).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Dict, Iterable, NamedTuple, Optional, Tuple
from urllib.parse import urlsplit

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
REASONS = {
    101: "Switching Protocols",
    200: "OK",
    304: "Not Modified",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    426: "Upgrade Required",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class HTTPError(Exception):
    """A request pollhub answers with an HTTP error status instead of an upgrade."""

    def __init__(self, status: int, message: str, headers: Optional[Dict[str, str]] = None) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.headers = headers or {}


class Request(NamedTuple):
    method: str
    path: str  # the target without its query string
    query: str
    headers: Dict[str, str]  # lower-cased names; repeated headers joined with ", "

    def header_tokens(self, name: str) -> Tuple[str, ...]:
        """The comma-separated, lower-cased tokens of a header such as ``Connection``."""
        return tuple(t.strip().lower() for t in self.headers.get(name, "").split(",") if t.strip())

    @property
    def is_upgrade(self) -> bool:
        return "websocket" in self.header_tokens("upgrade")


def parse_request(head: bytes) -> Request:
    """Parse an HTTP/1.1 request head (up to and without the blank line).

    Raises :class:`HTTPError` (400) for anything malformed.
    """
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
        raise HTTPError(400, "request is not text") from None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise HTTPError(400, "malformed request line")
    method, target, _version = parts
    headers: Dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise HTTPError(400, "malformed header line")
        key = name.lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    path, _, query = target.partition("?")
    return Request(method, path, query, headers)


def accept_key(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` value for a client's ``Sec-WebSocket-Key``."""
    digest = hashlib.sha1((key + WEBSOCKET_GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def check_upgrade(request: Request, allowed_origins: Iterable[str] = ()) -> str:
    """Check a WebSocket upgrade request and return its ``Sec-WebSocket-Key``.

    A browser's request must come from the server's own origin or one of
    ``allowed_origins`` (against cross-site WebSocket hijacking); a request
    without an ``Origin`` header (a script) is accepted.

    Raises :class:`HTTPError`: 405 for a method other than GET, 426 for a
    plain request or a version other than 13, 400 for a missing or bad key,
    403 for a foreign origin.
    """
    if request.method != "GET":
        raise HTTPError(405, "WebSocket upgrades use GET", {"Allow": "GET"})
    if not request.is_upgrade or "upgrade" not in request.header_tokens("connection"):
        raise HTTPError(426, "this address speaks WebSocket only", {"Upgrade": "websocket", "Connection": "Upgrade"})
    if request.headers.get("sec-websocket-version") != "13":
        raise HTTPError(426, "only WebSocket version 13 is supported", {"Sec-WebSocket-Version": "13"})
    key = request.headers.get("sec-websocket-key", "")
    try:
        if len(base64.b64decode(key.encode("ascii"), validate=True)) != 16:
            raise ValueError(key)
    except (ValueError, binascii.Error, UnicodeEncodeError):
        raise HTTPError(400, "missing or malformed Sec-WebSocket-Key") from None
    origin = request.headers.get("origin")
    if origin is not None and not origin_allowed(origin, request.headers.get("host", ""), allowed_origins):
        raise HTTPError(403, f"origin {origin} is not allowed")
    return key


def origin_allowed(origin: str, host: str, allowed_origins: Iterable[str] = ()) -> bool:
    """True when ``origin`` is the server's own (same host and port) or listed."""
    if origin.rstrip("/") in {o.rstrip("/") for o in allowed_origins}:
        return True
    netloc = urlsplit(origin).netloc
    return bool(netloc) and netloc.lower() == host.lower()


def upgrade_response(key: str) -> bytes:
    """The 101 response that completes a WebSocket handshake."""
    return (
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept_key(key)}\r\n"
        "\r\n"
    ).encode("ascii")


def response(
    status: int,
    body: bytes = b"",
    content_type: str = "text/plain; charset=utf-8",
    headers: Optional[Dict[str, str]] = None,
    head_only: bool = False,
) -> bytes:
    """A complete HTTP/1.1 response that closes the connection after it."""
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}"]
    all_headers = {"Content-Type": content_type, "Content-Length": str(len(body)), "Connection": "close"}
    all_headers.update(headers or {})
    lines += [f"{name}: {value}" for name, value in all_headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (b"" if head_only else body)


def error_response(error: HTTPError, head_only: bool = False) -> bytes:
    """The response for an :class:`HTTPError`, with its message as a plain-text body."""
    return response(error.status, (error.message + "\n").encode("utf-8"), headers=error.headers, head_only=head_only)
