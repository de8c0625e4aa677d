"""A running server spoken to over raw sockets: handshake, frames, close codes, HTTP answers, limits."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from pollhub import Hub, PollServer, protocol
from pollhub.frames import encode_frame

from .conftest import wait_until
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
