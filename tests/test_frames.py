"""RFC 6455 framing with no I/O: MessageReader, encode_frame, encode_close, parse_close_payload."""

from __future__ import annotations

import struct
from typing import List

import pytest

from pollhub import frames
from pollhub.frames import (
    Binary,
    Close,
    MessageReader,
    Ping,
    Pong,
    ProtocolError,
    Text,
    encode_close,
    encode_frame,
    parse_close_payload,
)

from .rawws import OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, close_payload, frame_header, mask_frame

BIG = 1 << 20  # a max_size no test message reaches


def read_all(data: bytes, max_size: int = BIG, max_fragments: int = frames.MAX_FRAGMENTS) -> List[frames.Event]:
    """Every event in ``data`` fed at once."""
    reader = MessageReader(max_size, max_fragments)
    reader.feed(data)
    return list(reader.events())


def close_code_for(data: bytes, max_size: int = BIG, max_fragments: int = frames.MAX_FRAGMENTS) -> int:
    """The close code of the ProtocolError that ``data`` raises."""
    with pytest.raises(ProtocolError) as info:
        read_all(data, max_size, max_fragments)
    return info.value.code


# Well-formed frames --------------------------------------------------------------


@pytest.mark.parametrize(
    "length, length_byte",
    [(0, 0), (125, 125), (126, 126), (65535, 126), (65536, 127)],
)
def test_text_message_of_every_length_encoding(length: int, length_byte: int) -> None:
    """Text messages with 7-bit, 16-bit and 64-bit payload lengths are decoded whole."""
    text = "x" * length
    frame = mask_frame(OP_TEXT, text.encode())
    assert frame[1] & 0x7F == length_byte  # the helper really uses that length encoding
    assert read_all(frame) == [Text(text)]


@pytest.mark.parametrize("length", [0, 125, 126, 65535, 65536])
def test_binary_message_of_every_length_encoding(length: int) -> None:
    """Binary messages with every length encoding come back byte for byte."""
    payload = bytes(i % 256 for i in range(length))
    assert read_all(mask_frame(OP_BINARY, payload, mask=b"\x01\x80\xfe\x7f")) == [Binary(payload)]


def test_several_frames_in_one_feed() -> None:
    """One feed holding several frames yields all their events, in order."""
    data = (
        mask_frame(OP_TEXT, b"one")
        + mask_frame(OP_PING, b"p")
        + mask_frame(OP_PONG, b"q")
        + mask_frame(OP_CLOSE, close_payload(1000, b"bye"))
    )
    assert read_all(data) == [Text("one"), Ping(b"p"), Pong(b"q"), Close(1000, "bye")]


def test_bytes_fed_one_at_a_time_give_the_same_events() -> None:
    """Splitting the stream anywhere, even inside headers and lengths, changes nothing."""
    data = (
        mask_frame(OP_TEXT, "héllo".encode())
        + mask_frame(OP_PING, b"\x00\xff")
        + mask_frame(OP_BINARY, b"b" * 300)
        + mask_frame(OP_TEXT, b"par", fin=False)
        + mask_frame(OP_CONT, "t ☃".encode(), fin=True)
        + mask_frame(OP_TEXT, b"y" * 70000)
        + mask_frame(OP_CLOSE, close_payload(1001))
    )
    reader = MessageReader(BIG)
    events = []
    for i in range(len(data)):
        reader.feed(data[i : i + 1])
        events.extend(reader.events())
    assert events == read_all(data)
    assert events == [
        Text("héllo"),
        Ping(b"\x00\xff"),
        Binary(b"b" * 300),
        Text("part ☃"),
        Text("y" * 70000),
        Close(1001, ""),
    ]


def test_incomplete_frame_yields_nothing_yet() -> None:
    """A frame missing its last byte produces no event until that byte arrives."""
    frame = mask_frame(OP_TEXT, b"hello")
    reader = MessageReader(BIG)
    reader.feed(frame[:-1])
    assert list(reader.events()) == []
    reader.feed(frame[-1:])
    assert list(reader.events()) == [Text("hello")]


def test_fragmented_text_is_reassembled_around_a_ping() -> None:
    """A ping between fragments comes out at once; the text comes out whole at the end."""
    data = (
        mask_frame(OP_TEXT, b"Hel", fin=False)
        + mask_frame(OP_PING, b"ping!")
        + mask_frame(OP_CONT, b"lo, ", fin=False)
        + mask_frame(OP_CONT, b"world", fin=True)
    )
    assert read_all(data) == [Ping(b"ping!"), Text("Hello, world")]


def test_fragmented_binary_is_reassembled() -> None:
    """Binary fragments are joined into one Binary message."""
    data = mask_frame(OP_BINARY, b"\x00\x01", fin=False) + mask_frame(OP_CONT, b"\x02", fin=True)
    assert read_all(data) == [Binary(b"\x00\x01\x02")]


def test_utf8_character_split_across_fragments() -> None:
    """A multi-byte character cut between two fragments is valid text."""
    snowman = "☃".encode()  # 3 bytes
    data = (
        mask_frame(OP_TEXT, b"caf\xc3", fin=False)
        + mask_frame(OP_CONT, b"\xa9 " + snowman[:1], fin=False)
        + mask_frame(OP_CONT, snowman[1:], fin=True)
    )
    assert read_all(data) == [Text("café ☃")]


def test_message_of_exactly_max_size_is_accepted() -> None:
    """max_size is inclusive."""
    assert read_all(mask_frame(OP_BINARY, b"z" * 100), max_size=100) == [Binary(b"z" * 100)]


# Protocol errors -----------------------------------------------------------------


def test_unmasked_frame_is_a_protocol_error() -> None:
    """Client frames must be masked: 1002."""
    assert close_code_for(encode_frame(OP_TEXT, b"hi")) == 1002


@pytest.mark.parametrize("rsv", [0x40, 0x20, 0x10])
def test_reserved_bits_are_a_protocol_error(rsv: int) -> None:
    """RSV1-3 need a negotiated extension, and there is none: 1002."""
    assert close_code_for(mask_frame(OP_TEXT, b"hi", rsv=rsv)) == 1002


@pytest.mark.parametrize("opcode", [0x3, 0x7, 0xB, 0xF])
def test_unknown_opcode_is_a_protocol_error(opcode: int) -> None:
    """Reserved data (0x3-0x7) and control (0xB-0xF) opcodes: 1002."""
    assert close_code_for(mask_frame(opcode, b"")) == 1002


def test_control_frame_over_125_bytes_is_a_protocol_error() -> None:
    """A ping with a 126-byte payload: 1002."""
    assert close_code_for(mask_frame(OP_PING, b"p" * 126)) == 1002


def test_control_frame_of_125_bytes_is_fine() -> None:
    """125 bytes is the largest control payload allowed."""
    assert read_all(mask_frame(OP_PING, b"p" * 125)) == [Ping(b"p" * 125)]


@pytest.mark.parametrize("opcode", [OP_PING, OP_PONG, OP_CLOSE])
def test_fragmented_control_frame_is_a_protocol_error(opcode: int) -> None:
    """Control frames must have FIN set: 1002."""
    assert close_code_for(mask_frame(opcode, b"", fin=False)) == 1002


def test_continuation_without_a_message_is_a_protocol_error() -> None:
    """A continuation frame with no message started: 1002."""
    assert close_code_for(mask_frame(OP_CONT, b"orphan")) == 1002


def test_continuation_after_a_finished_message_is_a_protocol_error() -> None:
    """Once a message has ended, a continuation has nothing to continue: 1002."""
    data = mask_frame(OP_TEXT, b"done") + mask_frame(OP_CONT, b"more")
    reader = MessageReader(BIG)
    reader.feed(data)
    events = reader.events()
    assert next(events) == Text("done")
    with pytest.raises(ProtocolError) as info:
        next(events)
    assert info.value.code == 1002


@pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY])
def test_new_message_inside_an_unfinished_one_is_a_protocol_error(opcode: int) -> None:
    """A text or binary frame while a fragmented message is unfinished: 1002."""
    data = mask_frame(OP_TEXT, b"first half", fin=False) + mask_frame(opcode, b"intruder")
    assert close_code_for(data) == 1002


def test_huge_length_fails_as_soon_as_the_header_is_complete() -> None:
    """A 64-bit length of 2**62 over max_size raises 1009 at the 10th header byte, with no payload."""
    header = frame_header(OP_BINARY, 2**62)
    assert len(header) == 10
    reader = MessageReader(max_size=1000)
    reader.feed(header[:9])
    assert list(reader.events()) == []
    reader.feed(header[9:])
    with pytest.raises(ProtocolError) as info:
        list(reader.events())
    assert info.value.code == 1009


def test_length_with_top_bit_set_is_a_protocol_error() -> None:
    """RFC 6455 5.2: the most significant bit of a 64-bit length must be 0."""
    assert close_code_for(frame_header(OP_BINARY, 2**63), max_size=2**64) == 1002


def test_fragments_adding_up_over_max_size() -> None:
    """max_size counts the whole message, not each fragment: 1009 on the fragment that passes it."""
    data = mask_frame(OP_TEXT, b"a" * 60, fin=False) + mask_frame(OP_CONT, b"b" * 60)
    assert close_code_for(data, max_size=100) == 1009


def test_invalid_utf8_in_first_fragment_fails_at_once() -> None:
    """Bad UTF-8 is 1007 as soon as its fragment arrives, before the message ends."""
    reader = MessageReader(BIG)
    reader.feed(mask_frame(OP_TEXT, b"ok \xff", fin=False))
    with pytest.raises(ProtocolError) as info:
        list(reader.events())
    assert info.value.code == 1007


def test_text_ending_inside_a_character_is_invalid() -> None:
    """A final fragment that stops half-way through a character: 1007."""
    data = mask_frame(OP_TEXT, b"caf\xc3", fin=False) + mask_frame(OP_CONT, b"", fin=True)
    assert close_code_for(data) == 1007


def test_invalid_utf8_in_a_single_frame() -> None:
    """An unfragmented text message with an overlong encoding: 1007."""
    assert close_code_for(mask_frame(OP_TEXT, b"\xc0\xaf")) == 1007


# Close frames --------------------------------------------------------------------


def test_empty_close_payload_means_no_status() -> None:
    """A close frame with no payload stands for code 1005."""
    assert parse_close_payload(b"") == Close(1005, "")
    assert read_all(mask_frame(OP_CLOSE, b"")) == [Close(1005, "")]


def test_one_byte_close_payload_is_a_protocol_error() -> None:
    """A close payload is empty or at least 2 bytes: 1002."""
    with pytest.raises(ProtocolError) as info:
        parse_close_payload(b"\x03")
    assert info.value.code == 1002


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535])
def test_invalid_close_codes_are_a_protocol_error(code: int) -> None:
    """Reserved, never-sent and unassigned codes: 1002."""
    with pytest.raises(ProtocolError) as info:
        parse_close_payload(close_payload(code))
    assert info.value.code == 1002
    assert close_code_for(mask_frame(OP_CLOSE, close_payload(code))) == 1002


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999])
def test_valid_close_codes(code: int) -> None:
    """Registered codes and the library/application ranges are accepted."""
    assert parse_close_payload(close_payload(code, "fin ✓".encode())) == Close(code, "fin ✓")


def test_close_reason_must_be_utf8() -> None:
    """A close reason that is not UTF-8: 1007."""
    with pytest.raises(ProtocolError) as info:
        parse_close_payload(close_payload(1000, b"\xff\xfe"))
    assert info.value.code == 1007


# Encoding ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "length, header",
    [
        (0, b"\x81\x00"),
        (125, b"\x81\x7d"),
        (126, b"\x81\x7e\x00\x7e"),
        (65535, b"\x81\x7e\xff\xff"),
        (65536, b"\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00"),
    ],
)
def test_encode_frame_length_encodings(length: int, header: bytes) -> None:
    """Server frames are unmasked, FIN set, with the shortest length encoding."""
    payload = b"x" * length
    assert encode_frame(OP_TEXT, payload) == header + payload


def test_encode_frame_without_fin() -> None:
    """fin=False clears the FIN bit and keeps the opcode."""
    assert encode_frame(OP_TEXT, b"ab", fin=False) == b"\x01\x02ab"


def test_encode_close() -> None:
    """A close frame carries the code in network order, then the reason."""
    assert encode_close(1001, "bye") == b"\x88\x05" + struct.pack("!H", 1001) + b"bye"
    assert encode_close() == b"\x88\x02\x03\xe8"


@pytest.mark.parametrize("char", ["a", "é", "€", "😀"])
def test_encode_close_never_cuts_inside_a_character(char: str) -> None:
    """A long reason is cut to fit in 125 bytes, at a character boundary."""
    reason = char * 200
    frame = encode_close(1000, reason)
    assert frame[0] == 0x88
    length = frame[1]
    payload = frame[2:]
    assert length == len(payload) <= 125
    assert struct.unpack("!H", payload[:2]) == (1000,)
    text = payload[2:].decode("utf-8")  # raises if cut inside a character
    assert reason.startswith(text)
    assert len(payload[2:]) > 123 - len(char.encode())  # cut no more than needed


def test_invalid_utf8_fails_inside_a_frame_before_it_ends() -> None:
    """Autobahn 6.4.3: the bad bytes arrive while the rest of the frame is still on its way."""
    payload = "κόσμε".encode() + b"\xf4\x90\x80\x80" + b"edited"
    frame = mask_frame(OP_TEXT, payload)
    reader = MessageReader(max_size=1000)
    reader.feed(frame[:6 + 11])  # header, mask and the valid first part
    assert list(reader.events()) == []
    reader.feed(frame[6 + 11 : 6 + 15])  # the invalid code point, the frame not yet complete
    with pytest.raises(ProtocolError) as caught:
        list(reader.events())
    assert caught.value.code == 1007


def test_text_decoded_ahead_is_not_decoded_twice() -> None:
    text = "añb€" * 50
    frame = mask_frame(OP_TEXT, text.encode(), mask=b"\x01\x02\x03\x04")
    reader = MessageReader(max_size=1000)
    events = []
    for i in range(0, len(frame), 7):
        reader.feed(frame[i : i + 7])
        events.extend(reader.events())
    assert events == [Text(text)]


# Fragments -----------------------------------------------------------------------


def empty_fragments(count: int) -> bytes:
    """A text message opened by an empty frame, then ``count`` empty continuation frames, never ended."""
    return mask_frame(OP_TEXT, b"", fin=False) + mask_frame(OP_CONT, b"", fin=False) * count


def test_endless_empty_fragments_are_closed_with_1009() -> None:
    """Empty fragments carry no payload, yet a message may not have more than max_fragments of them."""
    reader = MessageReader(BIG, max_fragments=50)
    reader.feed(empty_fragments(49))
    assert list(reader.events()) == []
    reader.feed(mask_frame(OP_CONT, b"", fin=False))
    with pytest.raises(ProtocolError) as info:
        list(reader.events())
    assert info.value.code == 1009


def test_max_fragments_is_inclusive_and_per_message() -> None:
    """A message of exactly max_fragments frames passes; the next message starts counting again."""
    message = mask_frame(OP_TEXT, b"a", fin=False) + mask_frame(OP_CONT, b"b", fin=False) + mask_frame(OP_CONT, b"c")
    assert read_all(message * 3, max_fragments=3) == [Text("abc")] * 3
    four = message[:-7] + mask_frame(OP_CONT, b"c", fin=False) + mask_frame(OP_CONT, b"d")
    assert close_code_for(four, max_fragments=3) == 1009


def test_default_fragment_limit() -> None:
    """Without max_fragments, frames.MAX_FRAGMENTS applies."""
    reader = MessageReader(BIG)
    reader.feed(empty_fragments(frames.MAX_FRAGMENTS))
    with pytest.raises(ProtocolError) as info:
        list(reader.events())
    assert info.value.code == 1009


def test_fragment_headers_count_against_max_size() -> None:
    """Each frame after the first costs its header (6 bytes with the mask): 20 empty ones pass max_size=100."""
    assert close_code_for(empty_fragments(20), max_size=100) == 1009
    reader = MessageReader(max_size=100)
    reader.feed(empty_fragments(16) + mask_frame(OP_CONT, b""))  # 17 * 6 = 102 bytes: over
    with pytest.raises(ProtocolError):
        list(reader.events())
    # 16 continuation headers (96 bytes) and 4 payload bytes: exactly 100, accepted.
    message = mask_frame(OP_TEXT, b"ab", fin=False) + mask_frame(OP_CONT, b"", fin=False) * 15 + mask_frame(OP_CONT, b"cd")
    assert read_all(message, max_size=100) == [Text("abcd")]


def test_a_single_frame_message_may_fill_max_size() -> None:
    """The first frame's header is free: one frame of exactly max_size bytes still passes."""
    assert read_all(mask_frame(OP_TEXT, b"x" * 100), max_size=100) == [Text("x" * 100)]
