"""The HTTP side with no I/O: parse_request, check_upgrade, accept_key, responses."""

from __future__ import annotations

import base64
from typing import Callable, Optional

import pytest

from pollhub.handshake import (
    HTTPError,
    Request,
    accept_key,
    check_host,
    check_upgrade,
    error_response,
    host_name,
    parse_request,
    response,
    upgrade_response,
)

from .rawws import ACCEPT, KEY


def upgrade(
    method: str = "GET",
    key: Optional[str] = KEY,
    version: Optional[str] = "13",
    host: str = "poll.example:8765",
    origin: Optional[str] = None,
    upgrade_header: str = "websocket",
    connection: str = "Upgrade",
) -> Request:
    """A parsed upgrade request; a header given as None is left out."""
    lines = [f"{method} /ws HTTP/1.1", f"Host: {host}", f"Upgrade: {upgrade_header}", f"Connection: {connection}"]
    if key is not None:
        lines.append(f"Sec-WebSocket-Key: {key}")
    if version is not None:
        lines.append(f"Sec-WebSocket-Version: {version}")
    if origin is not None:
        lines.append(f"Origin: {origin}")
    return parse_request("\r\n".join(lines).encode("latin-1"))


def refusal(request: Request, allowed_origins: tuple = ()) -> HTTPError:
    with pytest.raises(HTTPError) as info:
        check_upgrade(request, allowed_origins)
    return info.value


# parse_request -------------------------------------------------------------------


def test_parse_request() -> None:
    """Method, path, query and lower-cased header names with stripped values."""
    request = parse_request(b"GET /ws?room=1&x=2 HTTP/1.1\r\nHost: example.com\r\nX-Thing:   spaced  ")
    assert request.method == "GET"
    assert request.path == "/ws"
    assert request.query == "room=1&x=2"
    assert request.headers == {"host": "example.com", "x-thing": "spaced"}


def test_parse_request_joins_repeated_headers() -> None:
    """Repeated headers are joined with ", ", as HTTP says they may be."""
    request = parse_request(b"GET / HTTP/1.1\r\nConnection: keep-alive\r\nconnection: Upgrade")
    assert request.headers["connection"] == "keep-alive, Upgrade"
    assert request.header_tokens("connection") == ("keep-alive", "upgrade")


def test_parse_request_keeps_a_colon_in_a_value() -> None:
    """Only the first colon separates name and value."""
    assert parse_request(b"GET / HTTP/1.1\r\nHost: localhost:8765").headers["host"] == "localhost:8765"


@pytest.mark.parametrize(
    "head",
    [b"", b"GET /ws", b"GET /ws HTTP/1.1 extra", b"GET /ws FTP/1.0", b"GET  /ws HTTP/1.1"],
)
def test_malformed_request_line_is_400(head: bytes) -> None:
    """A request line that is not ``METHOD target HTTP/1.x``: 400."""
    with pytest.raises(HTTPError) as info:
        parse_request(head)
    assert info.value.status == 400


@pytest.mark.parametrize("line", [b"NoColon", b": no name", b"Host : space before colon", b" Host: folded"])
def test_malformed_header_line_is_400(line: bytes) -> None:
    """A header line with no colon, no name, or whitespace around the name: 400."""
    with pytest.raises(HTTPError) as info:
        parse_request(b"GET / HTTP/1.1\r\n" + line)
    assert info.value.status == 400


# check_upgrade -------------------------------------------------------------------


def test_valid_upgrade_returns_the_key() -> None:
    """A correct version-13 upgrade is accepted and its key returned."""
    assert check_upgrade(upgrade()) == KEY


def test_upgrade_tokens_are_case_insensitive_and_listed() -> None:
    """``Upgrade: WebSocket`` and ``Connection: keep-alive, Upgrade`` (Firefox) are accepted."""
    assert check_upgrade(upgrade(upgrade_header="WebSocket", connection="keep-alive, Upgrade")) == KEY


@pytest.mark.parametrize(
    "key",
    [
        None,
        "",
        "not base64!!",
        base64.b64encode(b"x" * 15).decode(),  # valid base64 but not 16 bytes
        base64.b64encode(b"x" * 17).decode(),
        "dGhlIHNhbXBsZSBub25jZQ",  # missing padding
        "dGhlIHNhbXBsZSBub25jZQ==é",
    ],
)
def test_missing_or_bad_key_is_400(key: Optional[str]) -> None:
    """Sec-WebSocket-Key must be the base64 of 16 bytes: 400 otherwise."""
    assert refusal(upgrade(key=key)).status == 400


@pytest.mark.parametrize("version", ["8", "12", "14", None])
def test_other_version_is_426_naming_13(version: Optional[str]) -> None:
    """Only version 13: 426 with ``Sec-WebSocket-Version: 13`` (RFC 6455 4.4)."""
    error = refusal(upgrade(version=version))
    assert error.status == 426
    assert error.headers.get("Sec-WebSocket-Version") == "13"
    assert "Sec-WebSocket-Version: 13\r\n" in error_response(error).decode()


def test_plain_request_is_426() -> None:
    """A GET with no upgrade headers: 426 Upgrade Required, with ``Upgrade: websocket``."""
    error = refusal(parse_request(b"GET /ws HTTP/1.1\r\nHost: poll.example"))
    assert error.status == 426
    assert error.headers.get("Upgrade") == "websocket"


def test_upgrade_header_without_connection_upgrade_is_426() -> None:
    """``Connection`` must list ``Upgrade`` too."""
    assert refusal(upgrade(connection="keep-alive")).status == 426


@pytest.mark.parametrize("method", ["POST", "PUT", "HEAD"])
def test_other_method_is_405(method: str) -> None:
    """Upgrades use GET: 405 with ``Allow: GET``."""
    error = refusal(upgrade(method=method))
    assert error.status == 405
    assert error.headers.get("Allow") == "GET"


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://poll.example:9999",
        "http://poll.example",
        "null",
        "poll.example:8765",
        "http://[poll.example:8765",  # urlsplit raises ValueError: still a 403
    ],
)
def test_foreign_origin_is_403(origin: str) -> None:
    """A browser page from another host or port may not connect: 403."""
    assert refusal(upgrade(origin=origin)).status == 403


@pytest.mark.parametrize("origin", ["http://poll.example:8765", "https://POLL.example:8765", "http://poll.example:8765/"])
def test_same_host_origin_is_accepted(origin: str) -> None:
    """The server's own origin (host and port as in Host, any case) is accepted."""
    assert check_upgrade(upgrade(origin=origin)) == KEY


def test_allowed_origin_is_accepted() -> None:
    """An origin listed in allowed_origins is accepted, with or without a trailing slash."""
    assert check_upgrade(upgrade(origin="https://slides.example"), ["https://slides.example/"]) == KEY
    assert refusal(upgrade(origin="https://other.example"), ("https://slides.example",)).status == 403


def test_no_origin_is_accepted() -> None:
    """A request without Origin (a script, not a browser) is accepted."""
    assert "origin" not in upgrade().headers
    assert check_upgrade(upgrade()) == KEY


# check_host ----------------------------------------------------------------------

KNOWN = frozenset({"localhost", "127.0.0.1", "::1", "poll.example", "192.0.2.7"})


def with_host(host: Optional[str]) -> Request:
    head = "GET / HTTP/1.1" + (f"\r\nHost: {host}" if host is not None else "")
    return parse_request(head.encode("latin-1"))


def host_refusal(host: Optional[str], is_local_address: Optional[Callable[[str], bool]] = None) -> HTTPError:
    with pytest.raises(HTTPError) as info:
        check_host(with_host(host), KNOWN, is_local_address)
    return info.value


@pytest.mark.parametrize(
    "value, name",
    [
        ("localhost", "localhost"),
        ("LocalHost:8765", "localhost"),
        ("localhost.", "localhost"),
        ("Poll.Example.:443", "poll.example"),
        ("127.0.0.1:8765", "127.0.0.1"),
        ("[::1]:8765", "::1"),
        ("[0:0:0:0:0:0:0:1]", "::1"),
        ("[::1]", "::1"),
        ("evil.example:8765", "evil.example"),
    ],
)
def test_host_name_normalizes(value: str, name: str) -> None:
    """Case, port, IPv6 brackets and a trailing dot make no difference; IPv6 in canonical form."""
    assert host_name(value) == name


@pytest.mark.parametrize("value", ["", "a b", "x:y", "[::1", "[::1]x", "host, host", "h/ost", ".", "a..b", "x:99999999"])
def test_host_name_of_garbage_is_empty(value: str) -> None:
    """A value that is not a host (several Host headers joined with a comma included) has no name."""
    assert host_name(value) == ""


@pytest.mark.parametrize(
    "host", ["localhost:8765", "LOCALHOST.:8765", "127.0.0.1:1", "[::1]:8765", "poll.example", "192.0.2.7:80"]
)
def test_known_host_is_accepted(host: str) -> None:
    check_host(with_host(host), KNOWN)


def test_no_host_is_accepted() -> None:
    """HTTP/1.0 tools send no Host; a browser always does. An empty Host is no Host."""
    check_host(with_host(None), KNOWN)
    check_host(with_host(""), KNOWN)


@pytest.mark.parametrize(
    "host", ["evil.example:8765", "evil.example", "localhost.evil.example", "poll.example.evil", "10.1.2.3"]
)
def test_unknown_host_is_421(host: str) -> None:
    """A name the server is not known by (DNS rebinding): 421 Misdirected Request."""
    error = host_refusal(host)
    assert error.status == 421
    assert error_response(error).startswith(b"HTTP/1.1 421 Misdirected Request\r\n")


def test_ip_address_of_this_machine_is_accepted() -> None:
    """An IP address not listed passes when is_local_address says it is the machine's; a name never does."""
    asked = []

    def local(address: str) -> bool:
        asked.append(address)
        return address in ("10.1.2.3", "fd00::5")

    check_host(with_host("10.1.2.3:8765"), KNOWN, local)
    check_host(with_host("[FD00:0::5]:8765"), KNOWN, local)
    assert host_refusal("10.1.2.4", local).status == 421
    assert host_refusal("evil.example", local).status == 421
    assert asked == ["10.1.2.3", "fd00::5", "10.1.2.4"]


def test_malformed_or_repeated_host_is_400() -> None:
    """Two Host headers, or one that is not a host name: 400."""
    assert host_refusal("a b").status == 400
    with pytest.raises(HTTPError) as info:
        check_host(parse_request(b"GET / HTTP/1.1\r\nHost: localhost\r\nHost: evil.example"), KNOWN)
    assert info.value.status == 400


# Keys and responses --------------------------------------------------------------


def test_accept_key_rfc6455_example() -> None:
    """RFC 6455 section 1.3: the sample nonce gives s3pPLMBiTxaQ9kYGzzhZRbK+xOo=.

    (The RFC's SHA-1 of the key and GUID is b3 7a 4f 2c ... c4 ea, which is
    base64 "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".)
    """
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert ACCEPT == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_upgrade_response() -> None:
    """The 101 response has the upgrade headers and the accept value, and ends the head."""
    text = upgrade_response(KEY).decode("ascii")
    assert text.startswith("HTTP/1.1 101 Switching Protocols\r\n")
    assert "\r\nUpgrade: websocket\r\n" in text
    assert "\r\nConnection: Upgrade\r\n" in text
    assert f"\r\nSec-WebSocket-Accept: {ACCEPT}\r\n" in text
    assert text.endswith("\r\n\r\n")


def test_response_has_length_and_closes() -> None:
    """An HTTP response carries Content-Length and Connection: close, then the body."""
    data = response(404, b"not found\n")
    head, body = data.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert b"\r\nContent-Length: 10" in head
    assert b"\r\nConnection: close" in head
    assert body == b"not found\n"


def test_head_response_has_no_body() -> None:
    """head_only keeps the Content-Length of the body but leaves the body out."""
    data = response(200, b"ok\n", head_only=True)
    assert data.endswith(b"\r\n\r\n")
    assert b"Content-Length: 3" in data


def test_error_response_body_is_the_message() -> None:
    """An HTTPError becomes a response whose body is its message, with its extra headers."""
    data = error_response(HTTPError(503, "too many", {"Retry-After": "5"}))
    assert data.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    assert b"\r\nRetry-After: 5\r\n" in data
    assert data.endswith(b"\r\n\r\ntoo many\n")
