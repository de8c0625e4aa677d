"""The HTTP side of a connection, with no I/O: parse a request, build responses.

Every request gets a real HTTP answer: the WebSocket upgrade (101), or an
error a person or a script can read (400, 404, 421, 426, 503, ...).

:func:`check_host` is the defence against DNS rebinding: a page on a foreign
domain that resolves its name to this server's address sends requests whose
``Host`` (and ``Origin``) name that domain, so the ``Host`` header must name
this server before anything else is looked at.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
from typing import Callable, Collection, Dict, Iterable, NamedTuple, Optional, Tuple
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
    421: "Misdirected Request",
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


def host_name(host: str) -> str:
    """The name in a ``Host`` header value or an address, comparable with ``==``.

    Lower-cased, without its port, its IPv6 brackets or a trailing dot; an IP
    address in its canonical form (``[0:0::1]:80`` is ``::1``). Returns ``""``
    for a value that is not a host name at all.
    """
    host = host.strip().lower()
    if host.startswith("["):
        literal, bracket, rest = host[1:].partition("]")
        if not bracket or (rest and not _is_port(rest)):
            return ""
        host = literal
    elif host.count(":") == 1:
        host, port = host.split(":")
        if not _is_port(":" + port):
            return ""
    if host.endswith(".") and ":" not in host:
        host = host[:-1]  # the root of the DNS: "localhost." is "localhost"
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not host or ":" in host or ".." in host or host.startswith("."):
        return ""
    if any(c.isspace() or c in "/\\@,;?#%[]" or not c.isprintable() for c in host):
        return ""
    return host


def _is_port(suffix: str) -> bool:
    return len(suffix) <= 6 and suffix[:1] == ":" and suffix[1:].isdigit() and suffix[1:].isascii()


def is_ip_address(name: str) -> bool:
    """True when ``name`` (as :func:`host_name` returns it) is an IPv4 or IPv6 address."""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def check_host(
    request: Request,
    known: Collection[str],
    is_local_address: Optional[Callable[[str], bool]] = None,
) -> None:
    """Check that the request's ``Host`` names this server (against DNS rebinding).

    ``known`` holds the names and addresses the server answers to, as
    :func:`host_name` returns them. An IP address that is not in ``known`` is
    still accepted when ``is_local_address`` says it is one of the machine's
    own. A request without a ``Host`` header (HTTP/1.0) is accepted: a browser
    always sends one.

    Raises :class:`HTTPError`: 421 for a name the server is not known by, 400
    for a ``Host`` that is not a host name (several ``Host`` headers included).
    """
    value = request.headers.get("host")
    if value is None or not value.strip():
        return
    name = host_name(value)
    if not name:
        raise HTTPError(400, f"malformed Host header {value!r}")
    if name in known:
        return
    if is_local_address is not None and is_ip_address(name) and is_local_address(name):
        return
    raise HTTPError(421, f"this server is not {name}")


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
    try:
        netloc = urlsplit(origin).netloc
    except ValueError:  # "Invalid IPv6 URL": an unbalanced bracket
        return False
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
