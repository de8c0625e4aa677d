"""Raw client-side WebSocket helpers for tests: build masked frames, speak HTTP by hand.

Nothing here uses pollhub's own code, so the tests check pollhub against an
independent (if tiny) implementation of RFC 6455.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any, Dict, List, NamedTuple, Optional

# The example key of RFC 6455 section 1.3 and its accept value.
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 1.3 (SHA-1 b37a4f2c...c4ea)
SOCKET_TIMEOUT = 5.0  # seconds any single socket operation may block

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def frame_header(opcode: int, length: int, fin: bool = True, rsv: int = 0, masked: bool = True) -> bytes:
    """The header of a frame (without its masking key), for any announced ``length``."""
    first = (0x80 if fin else 0) | rsv | opcode
    mask_bit = 0x80 if masked else 0
    if length < 126:
        return struct.pack("!BB", first, mask_bit | length)
    if length < 0x10000:
        return struct.pack("!BBH", first, mask_bit | 126, length)
    return struct.pack("!BBQ", first, mask_bit | 127, length)


def mask_frame(opcode: int, payload: bytes, fin: bool = True, rsv: int = 0, mask: bytes = b"abcd") -> bytes:
    """One masked frame, as a client sends it."""
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return frame_header(opcode, len(payload), fin, rsv) + mask + masked


def close_payload(code: int, reason: bytes = b"") -> bytes:
    return struct.pack("!H", code) + reason


def upgrade_request(
    path: str = "/ws",
    key: Optional[str] = KEY,
    version: Optional[str] = "13",
    method: str = "GET",
    extra: Optional[Dict[str, str]] = None,
) -> bytes:
    """An HTTP upgrade request; a header given as None is left out."""
    headers = {"Host": "127.0.0.1", "Upgrade": "websocket", "Connection": "Upgrade"}
    if key is not None:
        headers["Sec-WebSocket-Key"] = key
    if version is not None:
        headers["Sec-WebSocket-Version"] = version
    headers.update(extra or {})
    lines = [f"{method} {path} HTTP/1.1"] + [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class Response(NamedTuple):
    status: int
    headers: Dict[str, str]  # lower-cased names


class Frame(NamedTuple):
    fin: bool
    opcode: int
    payload: bytes

    @property
    def close_code(self) -> int:
        return struct.unpack("!H", self.payload[:2])[0]

    @property
    def json(self) -> Any:
        return json.loads(self.payload.decode("utf-8"))


class RawClient:
    """A TCP connection to a server with a receive buffer shared by HTTP and frame reads."""

    def __init__(self, port: int, timeout: float = SOCKET_TIMEOUT) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""

    def __enter__(self) -> "RawClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        """Receive more bytes into the buffer; False at the end of the stream."""
        data = self.sock.recv(65536)
        self.buffer += data
        return bool(data)

    def _take(self, n: int) -> bytes:
        while len(self.buffer) < n:
            if not self._fill():
                raise EOFError(f"connection closed with {len(self.buffer)} of {n} bytes")
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def read_response(self) -> Response:
        """Read an HTTP response head; the body (if any) stays in the buffer."""
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                raise EOFError(f"connection closed before a complete response: {self.buffer!r}")
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return Response(status, headers)

    def read_to_end(self) -> bytes:
        """Everything left until the server closes the connection."""
        while self._fill():
            pass
        data, self.buffer = self.buffer, b""
        return data

    def handshake(self, data_after: bytes = b"") -> Response:
        """Upgrade to WebSocket (sending ``data_after`` in the same packet) and check the 101."""
        self.send(upgrade_request() + data_after)
        response = self.read_response()
        assert response.status == 101, response
        return response

    def read_frame(self) -> Frame:
        """The next frame from the server (servers never mask); EOFError at the end."""
        first, second = self._take(2)
        assert not second & 0x80, "server frames must not be masked"
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._take(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._take(8))
        return Frame(bool(first & 0x80), first & 0x0F, self._take(length))

    def read_until(self, opcode: int) -> Frame:
        """The next frame with ``opcode``, skipping others (such as the welcome message)."""
        while True:
            frame = self.read_frame()
            if frame.opcode == opcode:
                return frame

    def read_message(self, kind: str) -> Dict[str, Any]:
        """The next JSON text message whose ``type`` is ``kind``, skipping other frames."""
        while True:
            frame = self.read_until(OP_TEXT)
            data = frame.json
            if data.get("type") == kind:
                return data

    def frames_until_eof(self) -> List[Frame]:
        """Every frame the server sends until it closes the TCP connection."""
        received = []
        while True:
            try:
                received.append(self.read_frame())
            except EOFError:
                assert self.buffer == b"", f"connection closed inside a frame: {self.buffer!r}"
                return received


def upgraded_socket(port: int, timeout: float = SOCKET_TIMEOUT, key: str = KEY) -> "tuple[socket.socket, bytes]":
    """A TCP connection upgraded to WebSocket, then made non-blocking, and the bytes read after the 101's head.

    For clients that read many connections without blocking (the load tests).
    """
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.sendall(upgrade_request(extra={"Host": f"127.0.0.1:{port}", "Sec-WebSocket-Key": key}))
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        data = sock.recv(65536)
        assert data, "the server closed the connection during the handshake"
        buffer += data
    head, buffer = buffer.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 101"), head
    sock.setblocking(False)
    return sock, buffer


class NonBlockingPeer:
    """An upgraded non-blocking connection, for clients that read many at once (the load tests).

    :meth:`read` takes what has arrived and hands each whole text message, decoded, to :meth:`on_message`;
    ``closed`` is set at a close frame or the end of the stream.
    """

    def __init__(self, port: int, timeout: float = SOCKET_TIMEOUT, key: str = KEY) -> None:
        self.sock, self.buffer = upgraded_socket(port, timeout, key)
        self.closed = False

    def on_message(self, message: Dict[str, Any]) -> None:
        raise NotImplementedError

    def read(self) -> None:
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return
        if not data:
            self.closed = True
            return
        self.buffer += data
        self.read_buffered()

    def read_buffered(self) -> None:
        """Hand over the whole messages already in the buffer."""
        frames, self.buffer = split_frames(self.buffer)
        for opcode, payload in frames:
            if opcode == OP_TEXT:
                self.on_message(json.loads(payload))
            elif opcode == OP_CLOSE:
                self.closed = True


def split_frames(buffer: bytes) -> "tuple[list[tuple[int, bytes]], bytes]":
    """The whole unmasked frames at the start of ``buffer`` as ``(opcode, payload)``, and the bytes left over.

    For clients that read many connections without blocking (the load tests):
    what a server sends, one frame per message, never fragmented.
    """
    frames: List[tuple] = []
    i = 0
    while len(buffer) - i >= 2:
        opcode, length, head = buffer[i] & 0x0F, buffer[i + 1] & 0x7F, 2
        if length == 126:
            if len(buffer) - i < 4:
                break
            length, head = struct.unpack_from("!H", buffer, i + 2)[0], 4
        elif length == 127:
            if len(buffer) - i < 10:
                break
            length, head = struct.unpack_from("!Q", buffer, i + 2)[0], 10
        if len(buffer) - i < head + length:
            break
        frames.append((opcode, buffer[i + head : i + head + length]))
        i += head + length
    return frames, buffer[i:]
