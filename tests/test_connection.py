"""A running server spoken to over raw sockets: handshake, frames, close codes, HTTP answers, limits."""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
import time
import tracemalloc
from typing import Any, List, Optional

import pytest

from pollhub import Hub, PollServer, protocol
from pollhub.connection import MAX_FRAGMENTS, Connection, ConnectionServer, ConnectionState
from pollhub.frames import encode_frame
from pollhub.handshake import Request, response

from .conftest import TIMEOUT, wait_until
from .rawws import (
    ACCEPT,
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    RawClient,
    close_payload,
    frame_header,
    mask_frame,
    upgrade_request,
)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def expect_close(client: RawClient, code: int) -> None:
    """The server sends a close frame with ``code``, then ends the TCP connection once we echo it."""
    frame = client.read_until(OP_CLOSE)
    assert frame.close_code == code, frame
    try:
        client.send(mask_frame(OP_CLOSE, close_payload(code)))
    except OSError:
        pass  # a server that already closed the connection is fine too
    assert client.read_to_end() == b""


# Handshake -----------------------------------------------------------------------


def test_handshake(server: PollServer) -> None:
    """An upgrade gets 101 with the RFC 6455 accept value, then a welcome message."""
    with RawClient(server.port) as client:
        response = client.handshake()
        assert response.headers["sec-websocket-accept"] == ACCEPT
        assert response.headers["upgrade"].lower() == "websocket"
        assert response.headers["connection"].lower() == "upgrade"
        assert client.read_message("welcome")["version"] == protocol.VERSION


def test_frames_in_the_handshake_packet_are_processed(server: PollServer) -> None:
    """Frames sent right behind the request, in the same TCP segment, are not lost."""
    with RawClient(server.port) as client:
        client.handshake(data_after=mask_frame(OP_PING, b"early") + mask_frame(OP_TEXT, b'{"type":"hello","ref":1}'))
        assert client.read_until(OP_PONG).payload == b"early"
        assert client.read_message("hello")["ref"] == 1


# Control frames ------------------------------------------------------------------


def test_pong_echoes_binary_ping_payload(server: PollServer) -> None:
    """A ping's payload comes back byte for byte, even when it is not UTF-8."""
    with RawClient(server.port) as client:
        client.handshake()
        client.send(mask_frame(OP_PING, b"\x00\xff\x80"))
        pong = client.read_until(OP_PONG)
        assert pong.payload == b"\x00\xff\x80"
        assert pong.fin


def test_client_close_is_echoed_then_tcp_closed(server: PollServer) -> None:
    """A close frame with 1000 gets a close with 1000 back, then the server ends TCP."""
    with RawClient(server.port) as client:
        client.handshake()
        client.send(mask_frame(OP_CLOSE, close_payload(1000, b"bye")))
        assert client.read_until(OP_CLOSE).close_code == 1000
        assert client.read_to_end() == b""
    wait_until(lambda: server.connection_count == 0)


# Refused frames ------------------------------------------------------------------


def test_binary_message_is_closed_with_1003(server: PollServer) -> None:
    """pollhub speaks text only: a binary message gets close code 1003."""
    with RawClient(server.port) as client:
        client.handshake()
        client.send(mask_frame(OP_BINARY, b"\x01\x02"))
        expect_close(client, 1003)


def test_unmasked_frame_is_closed_with_1002(server: PollServer) -> None:
    """A client frame without a mask gets close code 1002."""
    with RawClient(server.port) as client:
        client.handshake()
        client.send(encode_frame(OP_TEXT, b'{"type":"hello"}'))
        expect_close(client, 1002)


def test_huge_frame_header_is_closed_with_1009_at_once(server: PollServer) -> None:
    """A header announcing 2**40 bytes gets 1009 without the server waiting for any payload."""
    with RawClient(server.port) as client:
        client.handshake()
        client.send(frame_header(OP_TEXT, 2**40) + b"abcd")
        expect_close(client, 1009)


def test_invalid_utf8_is_closed_with_1007(server: PollServer) -> None:
    """A text message that is not UTF-8 gets close code 1007."""
    with RawClient(server.port) as client:
        client.handshake()
        client.send(mask_frame(OP_TEXT, b'{"type":"vote","option":"\xff"}'))
        expect_close(client, 1007)


def test_fragmented_message_with_a_ping_between(server: PollServer, hub: Hub) -> None:
    """A vote split over 3 frames, with a ping between two of them, is answered."""
    poll = hub.create_poll("Q?", ["a", "b"])
    text = b'{"type":"vote","option":"a"}'
    with RawClient(server.port) as client:
        client.handshake()
        client.send(mask_frame(OP_TEXT, text[:9], fin=False))
        client.send(mask_frame(OP_CONT, text[9:20], fin=False))
        client.send(mask_frame(OP_PING, b"between"))
        client.send(mask_frame(OP_CONT, text[20:], fin=True))
        assert client.read_until(OP_PONG).payload == b"between"
        voted = client.read_message("voted")
        assert voted["poll"] == poll.id
        assert voted["option"] == "a"
    assert hub.results(poll.id) == {"a": 1, "b": 0}


# Plain HTTP ----------------------------------------------------------------------


def test_unknown_path_is_404_with_a_body(server: PollServer) -> None:
    """A path pollhub does not serve: 404 with a readable body of the announced length."""
    with RawClient(server.port) as client:
        client.send(b"GET /nothing-here HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        response = client.read_response()
        body = client.read_to_end()
        assert response.status == 404
        assert body
        assert int(response.headers["content-length"]) == len(body)


def test_ws_without_upgrade_is_426(server: PollServer) -> None:
    """A plain GET of /ws: 426 Upgrade Required."""
    with RawClient(server.port) as client:
        client.send(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        response = client.read_response()
        assert response.status == 426
        assert response.headers.get("upgrade") == "websocket"


def test_head_healthz_is_200_without_body(server: PollServer) -> None:
    """HEAD /healthz: 200, and nothing after the head."""
    with RawClient(server.port) as client:
        client.send(b"HEAD /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        response = client.read_response()
        assert response.status == 200
        assert client.read_to_end() == b""


def test_bad_key_is_400(server: PollServer) -> None:
    """An upgrade with a key that is not 16 base64-encoded bytes: 400."""
    with RawClient(server.port) as client:
        client.send(upgrade_request(key="c2hvcnQ="))
        assert client.read_response().status == 400


def test_version_8_is_426(server: PollServer) -> None:
    """An upgrade with version 8: 426, naming version 13."""
    with RawClient(server.port) as client:
        client.send(upgrade_request(version="8"))
        response = client.read_response()
        assert response.status == 426
        assert response.headers.get("sec-websocket-version") == "13"


def test_foreign_origin_is_403(server: PollServer) -> None:
    """A browser upgrade from another site's page: 403."""
    with RawClient(server.port) as client:
        client.send(upgrade_request(extra={"Origin": "https://evil.example"}))
        assert client.read_response().status == 403


# Limits --------------------------------------------------------------------------


def test_half_a_request_is_dropped_after_the_handshake_timeout(hub: Hub) -> None:
    """A client that sends half a request line is disconnected after handshake_timeout."""
    with PollServer(hub, port=0, handshake_timeout=0.5) as server:
        with RawClient(server.port) as client:
            start = time.monotonic()
            client.send(b"GET /ws HT")
            assert client.sock.recv(1024) == b""
            assert time.monotonic() - start < 4.0


def test_oversized_request_headers_are_431(server: PollServer) -> None:
    """Request headers over max_header_size (16 KiB by default): 431."""
    with RawClient(server.port) as client:
        client.send(upgrade_request(extra={"X-Padding": "a" * 20_000}))
        assert client.read_response().status == 431


def test_max_connections(hub: Hub) -> None:
    """With max_connections=1 a second upgrade gets 503; once the first leaves, a new one gets in."""
    with PollServer(hub, port=0, max_connections=1) as server:
        with RawClient(server.port) as first:
            first.handshake()
            with RawClient(server.port) as second:
                second.send(upgrade_request())
                response = second.read_response()
                assert response.status == 503
                assert "retry-after" in response.headers
            first.send(mask_frame(OP_CLOSE, close_payload(1000)))
            assert first.read_until(OP_CLOSE).close_code == 1000
        wait_until(lambda: server.connection_count == 0)
        with RawClient(server.port) as third:
            third.handshake()


def test_silent_client_is_dropped_after_ping_timeout(hub: Hub) -> None:
    """A client that never answers pings gets a ping, then loses the connection."""
    with PollServer(hub, port=0, ping_interval=0.3, ping_timeout=0.3) as server:
        with RawClient(server.port) as client:
            client.handshake()
            received = client.frames_until_eof()  # the socket timeout bounds this wait
            opcodes = [frame.opcode for frame in received]
            assert OP_PING in opcodes, received
        wait_until(lambda: server.connection_count == 0)


def test_client_answering_pings_is_kept(hub: Hub) -> None:
    """A client that answers pings with pongs stays connected past ping_timeout."""
    with PollServer(hub, port=0, ping_interval=0.2, ping_timeout=0.3) as server:
        with RawClient(server.port) as client:
            client.handshake()
            for _ in range(4):  # 4 rounds of at least 0.2 s: well past one ping_timeout
                ping = client.read_until(OP_PING)
                client.send(mask_frame(OP_PONG, ping.payload))
            client.send(mask_frame(OP_TEXT, b'{"type":"hello","ref":"alive"}'))
            assert client.read_message("hello")["ref"] == "alive"


# Import side effects -------------------------------------------------------------


def test_import_leaves_root_logger_alone() -> None:
    """Importing pollhub (and so websocket-server) adds no handler to the root logger."""
    result = subprocess.run(
        [sys.executable, "-c", "import logging, pollhub; print(len(logging.getLogger().handlers))"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"


def test_bad_json_gets_an_error_reply(server: PollServer) -> None:
    """Bad JSON does not close the connection: it gets an error reply with code bad_json."""
    with RawClient(server.port) as client:
        client.handshake()
        client.send(mask_frame(OP_TEXT, b'{"type": "vote"'))
        error = client.read_message("error")
        assert error["code"] == "bad_json"
        client.send(mask_frame(OP_PING, b"still open"))
        assert client.read_until(OP_PONG).payload == b"still open"


# Fragments -----------------------------------------------------------------------


def test_endless_empty_fragments_are_closed_with_1009(server: PollServer) -> None:
    """A message of empty continuation frames that never ends gets 1009 once it passes max_fragments."""
    with RawClient(server.port) as client:
        client.handshake()
        client.send(mask_frame(OP_TEXT, b"", fin=False) + mask_frame(OP_CONT, b"", fin=False) * (MAX_FRAGMENTS + 10))
        expect_close(client, 1009)


def test_max_fragments_is_a_server_limit(hub: Hub) -> None:
    """max_fragments=4: a vote in 4 frames is counted, the same vote in 5 frames gets 1009."""
    poll = hub.create_poll("Q?", ["a", "b"])
    text = b'{"type":"vote","option":"a"}'
    in_four = b"".join(mask_frame(OP_CONT if i else OP_TEXT, text[i * 7 : i * 7 + 7], fin=i == 3) for i in range(4))
    with PollServer(hub, port=0, max_fragments=4) as server:
        with RawClient(server.port) as client:
            client.handshake()
            client.send(in_four)
            assert client.read_message("voted")["option"] == "a"
            in_five = mask_frame(OP_TEXT, b"", fin=False) + b"".join(
                mask_frame(OP_CONT, text[i * 7 : i * 7 + 7], fin=i == 3) for i in range(4)
            )
            client.send(in_five)
            expect_close(client, 1009)
    assert hub.results(poll.id) == {"a": 1, "b": 0}


# Host header (DNS rebinding) -----------------------------------------------------


def get(port: int, path: str = "/healthz", host: Optional[str] = "127.0.0.1", version: str = "1.1") -> int:
    """The status of a plain GET with this Host header (None: no Host header)."""
    head = f"GET {path} HTTP/{version}\r\n" + (f"Host: {host}\r\n" if host is not None else "") + "\r\n"
    with RawClient(port) as client:
        client.send(head.encode("latin-1"))
        return client.read_response().status


def test_foreign_host_is_421_for_pages_and_upgrades(server: PollServer) -> None:
    """A name the server is not known by gets 421 for a page, /healthz and the WebSocket upgrade."""
    evil = f"evil.example:{server.port}"
    assert get(server.port, "/", host=evil) == 421
    assert get(server.port, "/healthz", host=evil) == 421
    with RawClient(server.port) as client:
        client.send(upgrade_request(extra={"Host": evil}))
        response = client.read_response()
        assert response.status == 421
        assert b"evil.example" in client.read_to_end()


def test_dns_rebinding_upgrade_is_refused(server: PollServer) -> None:
    """A page of evil.example whose name now resolves to this server: its Origin matches its Host, yet 421."""
    evil = f"evil.example:{server.port}"
    with RawClient(server.port) as client:
        client.send(upgrade_request(extra={"Host": evil, "Origin": f"http://{evil}"}))
        assert client.read_response().status == 421
    assert server.connection_count == 0


class Recording(ConnectionServer):
    """A server that answers every request with 200 and remembers the paths it was asked for."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.asked: List[str] = []

    def http_response(self, request: Request, conn: Connection) -> Optional[bytes]:
        self.asked.append(request.path)
        return response(200, b"ok\n")

    def known_hosts(self) -> List[str]:
        return [*super().known_hosts(), "Slides.Example."]


def test_foreign_host_never_reaches_http_response() -> None:
    """The Host check comes before the server's hook: a foreign Host never gets to http_response."""
    with Recording() as server:
        assert get(server.port, "/secret", host="evil.example") == 421
        assert get(server.port, "/fine", host="localhost") == 200
        assert server.asked == ["/fine"]


def test_names_the_server_is_known_by(hub: Hub) -> None:
    """localhost, loopback addresses, the host name, allowed_hosts and the known_hosts hook; no Host at all."""
    with Recording(allowed_hosts=["poll.example"]) as server:
        port = server.port
        hostname = socket.gethostname()
        short = hostname.split(".")[0]
        hosts = [
            f"localhost:{port}",
            f"LOCALHOST.:{port}",
            f"127.0.0.1:{port}",
            f"[::1]:{port}",
            f"{hostname}:{port}",
            f"{short}.local:{port}",
            f"poll.example:{port}",
            f"slides.example:{port}",
        ]
        for host in hosts:
            assert get(port, "/", host=host) == 200, host
        assert get(port, "/", host=None, version="1.0") == 200
        assert get(port, "/", host="poll.example.evil.example") == 421
        assert server.asked == ["/"] * (len(hosts) + 1)


def test_any_address_of_this_machine_is_a_known_host() -> None:
    """Bound to one address, the server still answers requests naming its other addresses (127.0.0.2, say)."""
    with Recording(host="127.0.0.1") as server:
        assert get(server.port, "/", host=f"127.0.0.2:{server.port}") == 200
        assert get(server.port, "/", host="192.0.2.254") == 421  # TEST-NET-1: not this machine's
    with PollServer(Hub(), port=0, allowed_hosts=["poll.example"]) as poll_server:  # PollServer passes it on
        assert get(poll_server.port, "/healthz", host="poll.example") == 200
        assert get(poll_server.port, "/healthz", host="other.example") == 421


# Logs ----------------------------------------------------------------------------

CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def test_client_text_is_escaped_in_logs(server: PollServer, caplog: pytest.LogCaptureFixture) -> None:
    """A path, an Origin and a close reason holding controls or a line separator are logged on one line."""
    caplog.set_level(logging.DEBUG, logger="pollhub")
    with RawClient(server.port) as client:
        client.send(b"GET /x\x1b[31mred\xe2\x80\xa8forged HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert client.read_response().status == 404
    with RawClient(server.port) as client:
        client.send(upgrade_request(extra={"Origin": "http://evil\x1b[2J.example\x85x"}))
        assert client.read_response().status == 403
    with RawClient(server.port) as client:
        client.handshake()
        client.send(mask_frame(OP_CLOSE, close_payload(1000, "bye\nERROR forged line\u2028too".encode())))
        assert client.read_until(OP_CLOSE).close_code == 1000

    def logged(fragment: str) -> bool:
        return any(fragment in record.getMessage() for record in caplog.records)

    wait_until(lambda: logged("forged line"))
    assert logged("/x\\x1b[31mred")
    assert logged("evil\\x1b[2J.example\\x85x")
    assert logged("bye\\x0aERROR forged line\\u2028too")
    for record in caplog.records:
        assert not CONTROL.search(record.getMessage()), record.getMessage()


# Shared frames -------------------------------------------------------------------


class Collecting(ConnectionServer):
    """A server that keeps its open connections, for tests that send to them directly."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.open: List[Connection] = []

    def on_open(self, conn: Connection) -> None:
        self.open.append(conn)


def silent_client(port: int) -> socket.socket:
    """An upgraded raw connection with a small receive buffer, that will never read again."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(TIMEOUT)
    sock.connect(("127.0.0.1", port))
    sock.sendall(upgrade_request())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, head
        head += chunk
    assert head.startswith(b"HTTP/1.1 101 "), head
    return sock


def test_a_large_frame_is_shared_by_the_queues_of_slow_clients() -> None:
    """One 4 MiB frame sent to 8 clients that do not read: the rest of a partial write waits as a view
    of that one object, so Python memory grows by much less than one copy, not by a copy per client."""
    clients = 8
    frame = encode_frame(OP_BINARY, b"x" * (4 << 20))
    with Collecting(write_timeout=TIMEOUT) as server:
        socks = [silent_client(server.port) for _ in range(clients)]
        try:
            wait_until(lambda: len(server.open) == clients)
            tracemalloc.start()
            try:
                before = tracemalloc.get_traced_memory()[0]
                for conn in server.open:
                    assert conn.send_frame(frame)
                grown = tracemalloc.get_traced_memory()[0] - before
            finally:
                tracemalloc.stop()
            assert grown < len(frame) // 4, f"{grown} bytes for {clients} clients"
            assert all(conn._queue.qsize() + conn._queue.busy for conn in server.open), "no client was slow"
        finally:
            for sock in socks:
                sock.close()


# Connection state ----------------------------------------------------------------


def test_connection_states_over_a_real_socket() -> None:
    """HANDSHAKE until the upgrade, OPEN, CLOSING once the server closes, CLOSED once the client answers;
    ABORTED after abort(), and it stays so; a plain HTTP request goes from HANDSHAKE to CLOSED."""
    with Collecting() as server:
        with RawClient(server.port) as client:
            conn = wait_until(lambda: next(iter(server._connections.values()), None))
            assert isinstance(conn, Connection)
            assert conn.state is ConnectionState.HANDSHAKE and not conn.closing
            client.handshake()
            wait_until(lambda: server.open)
            assert server.open == [conn] and conn.state is ConnectionState.OPEN and not conn.closing
            conn.close(1000, "done")
            assert conn.state is ConnectionState.CLOSING and conn.closing
            assert client.read_until(OP_CLOSE).close_code == 1000
            assert conn.state is ConnectionState.CLOSING  # until the client answers
            client.send(mask_frame(OP_CLOSE, close_payload(1000)))
            assert client.read_to_end() == b""
            wait_until(lambda: conn.state is ConnectionState.CLOSED)
            conn.close()  # nothing more happens to a closed connection
            conn.abort()
            assert conn.state is ConnectionState.CLOSED
        with RawClient(server.port) as client:
            client.handshake()
            wait_until(lambda: len(server.open) == 2)
            aborted = server.open[1]
            aborted.abort()
            assert aborted.state is ConnectionState.ABORTED and aborted.closing
            assert client.frames_until_eof() == []  # no close frame
            wait_until(lambda: aborted.id not in server._connections)
            assert aborted.state is ConnectionState.ABORTED
        with RawClient(server.port) as client:
            http = wait_until(lambda: next(iter(server._connections.values()), None))
            assert isinstance(http, Connection)
            client.send(upgrade_request(extra={"Upgrade": "h2c"}))
            assert client.read_response().status == 426
            wait_until(lambda: http.state is ConnectionState.CLOSED)
        assert len(server.open) == 2


def test_close_before_the_upgrade_drops_the_connection() -> None:
    """close() on a connection still in its HANDSHAKE: there is no WebSocket to close, the TCP connection is dropped."""
    with Collecting() as server:
        with RawClient(server.port) as client:
            conn = wait_until(lambda: next(iter(server._connections.values()), None))
            assert isinstance(conn, Connection)
            conn.close()
            assert conn.state is ConnectionState.ABORTED
            assert client.read_to_end() == b""
