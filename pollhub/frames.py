"""RFC 6455 framing, with no I/O: encode server frames, parse a client's byte stream.

:class:`MessageReader` is a small state machine in the style of h11 and wsproto.
Feed it whatever bytes arrived with :meth:`MessageReader.feed` and take the
complete events with :meth:`MessageReader.events`. It enforces every rule a
server must check on frames coming from a client and raises
:class:`ProtocolError` carrying the close code to answer with.
"""

from __future__ import annotations

import codecs
import struct
from typing import Any, Iterator, List, NamedTuple, Optional, Tuple, Union

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA
DATA_OPCODES = (OP_CONTINUATION, OP_TEXT, OP_BINARY)
CONTROL_OPCODES = (OP_CLOSE, OP_PING, OP_PONG)

# Close codes (RFC 6455 section 7.4.1).
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_NO_STATUS = 1005  # never sent: stands for "the close frame had no code"
CLOSE_INVALID_DATA = 1007
CLOSE_POLICY_VIOLATION = 1008
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011
CLOSE_TRY_AGAIN_LATER = 1013

MAX_CONTROL_PAYLOAD = 125
MAX_FRAGMENTS = 1024  # frames in one message; more is closed with 1009

#: Codes a peer may put in a close frame: the registered ones that are meant to
#: be sent, plus the ranges for libraries (3000-3999) and applications (4000-4999).
VALID_CLOSE_CODES = frozenset((1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014))


class ProtocolError(Exception):
    """The client broke RFC 6455; the connection must close with ``code``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{reason} (close code {code})")
        self.code = code
        self.reason = reason


class Text(NamedTuple):
    """A complete text message."""

    data: str


class Binary(NamedTuple):
    """A complete binary message."""

    data: bytes


class Ping(NamedTuple):
    payload: bytes


class Pong(NamedTuple):
    payload: bytes


class Close(NamedTuple):
    """The peer's close frame; ``code`` is ``CLOSE_NO_STATUS`` when it had none."""

    code: int
    reason: str


Event = Union[Text, Binary, Ping, Pong, Close]


def is_valid_close_code(code: int) -> bool:
    """True for a code a peer may send in a close frame."""
    return code in VALID_CLOSE_CODES or 3000 <= code <= 4999


def encode_frame(opcode: int, payload: bytes = b"", fin: bool = True) -> bytes:
    """Return one unmasked frame, as a server sends it."""
    first = (0x80 if fin else 0) | opcode
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", first, length)
    elif length < 0x10000:
        header = struct.pack("!BBH", first, 126, length)
    else:
        header = struct.pack("!BBQ", first, 127, length)
    return header + payload


def encode_close(code: int = CLOSE_NORMAL, reason: str = "") -> bytes:
    """Return a close frame; the reason is cut to fit in a control frame."""
    data = reason.encode("utf-8")[: MAX_CONTROL_PAYLOAD - 2]
    data = data.decode("utf-8", "ignore").encode("utf-8")  # never cut inside a character
    return encode_frame(OP_CLOSE, struct.pack("!H", code) + data)


def unmask(payload: bytes, mask: bytes) -> bytes:
    """XOR ``payload`` with the repeated 4-byte ``mask`` (one big-int XOR, not a byte loop)."""
    n = len(payload)
    if not n:
        return b""
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


def parse_close_payload(payload: bytes) -> Close:
    """Decode a close frame's payload, checking its code and its UTF-8 reason."""
    if not payload:
        return Close(CLOSE_NO_STATUS, "")
    if len(payload) == 1:
        raise ProtocolError(CLOSE_PROTOCOL_ERROR, "close frame with a one-byte payload")
    (code,) = struct.unpack("!H", payload[:2])
    if not is_valid_close_code(code):
        raise ProtocolError(CLOSE_PROTOCOL_ERROR, f"invalid close code {code}")
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(CLOSE_INVALID_DATA, "close reason is not valid UTF-8") from None
    return Close(code, reason)


class MessageReader:
    """Parse frames from a client into whole messages and control events.

    Checks, with the close code each failure calls for: frames must be masked,
    reserved bits clear and opcodes known (1002); control frames at most 125
    bytes and never fragmented (1002); a continuation needs a message to
    continue and a new message must wait for the last one to end (1002);
    text must be UTF-8, checked as its bytes arrive, so a bad byte fails at
    once, even in the middle of a frame (1007); a message over ``max_size`` bytes fails as soon as its
    frame header says so, before its payload is buffered (1009); so does a
    message of more than ``max_fragments`` frames (1009).

    A message's size counts its payload and, for every frame after its first,
    that frame's header (2 to 14 bytes with the mask): a message of endless
    empty fragments costs its bytes like any other, and a message sent in one
    frame may still carry exactly ``max_size`` bytes.

    Not thread-safe: one reader belongs to one connection's read thread.
    """

    def __init__(self, max_size: int, max_fragments: int = MAX_FRAGMENTS) -> None:
        self.max_size = max_size
        self.max_fragments = max_fragments
        self._fragments = 0  # frames of the message being reassembled
        self._buffer = bytearray()
        self._message_opcode: Optional[int] = None  # opcode of the message being reassembled
        self._parts: List[Any] = []  # str pieces of a text message (decoded as they come), bytes of a binary one
        self._size = 0
        self._decoder: Optional[codecs.IncrementalDecoder] = None
        self._header: Optional[Tuple[bool, int, int, int]] = None  # fin, opcode, length, offset
        self._checked = 0  # bytes of the current text frame already decoded ahead

    def feed(self, data: bytes) -> None:
        """Append bytes received from the client."""
        self._buffer += data

    def events(self) -> Iterator[Event]:
        """Yield every complete event in the bytes fed so far.

        Raises :class:`ProtocolError` at the first violation; the reader is
        useless afterwards.
        """
        while True:
            event = self._next_event()
            if event is None:
                return
            yield event

    def _next_event(self) -> Optional[Event]:
        while True:
            frame = self._next_frame()
            if frame is None:
                return None
            fin, opcode, payload = frame
            if opcode in CONTROL_OPCODES:
                return self._control_event(opcode, payload)
            event = self._data_event(fin, payload)
            if event is not None:
                return event

    def _next_frame(self) -> Optional[Tuple[bool, int, bytes]]:
        """The next complete frame, its payload unmasked (less what was decoded ahead)."""
        if self._header is None:
            self._header = self._parse_header()
            if self._header is None:
                return None
        fin, opcode, length, offset = self._header
        start, end = offset + 4, offset + 4 + length
        if len(self._buffer) < end:
            if self._decoder is not None and opcode in DATA_OPCODES and len(self._buffer) > start:
                self._decode_ahead(start)
            return None
        mask = _rotate(bytes(self._buffer[offset:start]), self._checked)
        payload = unmask(bytes(self._buffer[start + self._checked : end]), mask)
        del self._buffer[:end]
        self._header, self._checked = None, 0
        return fin, opcode, payload

    def _decode_ahead(self, start: int) -> None:
        """Check the part of a text frame received so far, so bad UTF-8 fails before the frame ends."""
        available = len(self._buffer) - start
        mask = _rotate(bytes(self._buffer[start - 4 : start]), self._checked)
        self._decode(unmask(bytes(self._buffer[start + self._checked : start + available]), mask), final=False)
        self._checked = available

    def _decode(self, data: bytes, final: bool) -> None:
        assert self._decoder is not None
        try:
            text = self._decoder.decode(data, final=final)
        except UnicodeDecodeError:
            raise ProtocolError(CLOSE_INVALID_DATA, "text message is not valid UTF-8") from None
        if text:
            self._parts.append(text)

    def _parse_header(self) -> Optional[Tuple[bool, int, int, int]]:
        buf = self._buffer
        if len(buf) < 2:
            return None
        first, second = buf[0], buf[1]
        fin, opcode = bool(first & 0x80), first & 0x0F
        if first & 0x70:
            raise ProtocolError(CLOSE_PROTOCOL_ERROR, "reserved bits set without an extension")
        if opcode not in DATA_OPCODES and opcode not in CONTROL_OPCODES:
            raise ProtocolError(CLOSE_PROTOCOL_ERROR, f"unknown opcode {opcode:#x}")
        if not second & 0x80:
            raise ProtocolError(CLOSE_PROTOCOL_ERROR, "client frames must be masked")
        length = second & 0x7F
        offset = 2
        if length == 126:
            if len(buf) < 4:
                return None
            (length,) = struct.unpack_from("!H", buf, 2)
            offset = 4
        elif length == 127:
            if len(buf) < 10:
                return None
            (length,) = struct.unpack_from("!Q", buf, 2)
            offset = 10
            if length >> 63:
                raise ProtocolError(CLOSE_PROTOCOL_ERROR, "payload length has its top bit set")
        if opcode in CONTROL_OPCODES:
            if not fin:
                raise ProtocolError(CLOSE_PROTOCOL_ERROR, "fragmented control frame")
            if length > MAX_CONTROL_PAYLOAD:
                raise ProtocolError(CLOSE_PROTOCOL_ERROR, "control frame over 125 bytes")
        else:
            self._start_frame(opcode, length, offset + 4)
        return fin, opcode, length, offset

    def _start_frame(self, opcode: int, length: int, header_size: int) -> None:
        """Check a data frame's place in its message and the message's size."""
        if opcode == OP_CONTINUATION and self._message_opcode is None:
            raise ProtocolError(CLOSE_PROTOCOL_ERROR, "continuation frame without a message to continue")
        if opcode != OP_CONTINUATION:
            if self._message_opcode is not None:
                raise ProtocolError(CLOSE_PROTOCOL_ERROR, "new message before the last one ended")
            self._message_opcode = opcode
            if opcode == OP_TEXT:
                self._decoder = codecs.getincrementaldecoder("utf-8")()
        else:
            # Not the message's first frame: its header counts against max_size,
            # so endless empty fragments are a message too big like any other.
            length += header_size
            if self._fragments >= self.max_fragments:
                raise ProtocolError(CLOSE_TOO_BIG, f"message in over {self.max_fragments} fragments")
        self._fragments += 1
        if self._size + length > self.max_size:
            raise ProtocolError(CLOSE_TOO_BIG, f"message over {self.max_size} bytes")
        self._size += length

    def _control_event(self, opcode: int, payload: bytes) -> Event:
        if opcode == OP_PING:
            return Ping(payload)
        if opcode == OP_PONG:
            return Pong(payload)
        return parse_close_payload(payload)

    def _data_event(self, fin: bool, payload: bytes) -> Optional[Event]:
        if self._decoder is not None:
            self._decode(payload, final=fin)
        elif payload:
            self._parts.append(payload)
        if not fin:
            return None
        parts, self._parts = self._parts, []
        is_text = self._message_opcode == OP_TEXT
        self._message_opcode, self._decoder, self._size, self._fragments = None, None, 0, 0
        if is_text:
            return Text("".join(parts))
        return Binary(b"".join(parts))


def _rotate(mask: bytes, offset: int) -> bytes:
    """The mask as it applies from byte ``offset`` of a payload on."""
    shift = offset % 4
    return mask[shift:] + mask[:shift]
