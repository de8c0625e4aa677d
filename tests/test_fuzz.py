"""Property-based tests: random and truncated byte streams never break the connection layer.

The frame parser either yields events or raises ProtocolError, whatever it is
fed and however the bytes are split. A live server fed the same streams after
a valid handshake closes each connection by itself, logs no traceback, keeps
its threads and its connection count in check, and goes on serving.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
import threading
from typing import Iterator, List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pollhub import Hub, PollServer
from pollhub.frames import MessageReader, ProtocolError

from .conftest import wait_until
from .rawws import RawClient, frame_header, mask_frame

FUZZ_EXAMPLES = int(os.environ.get("POLLHUB_FUZZ_EXAMPLES", "60"))

opcodes = st.sampled_from([0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xA, 0xF])


@st.composite
def frame_bytes(draw: st.DrawFn) -> bytes:
    """A frame that is often valid and often slightly wrong."""
    opcode = draw(opcodes)
    payload = draw(st.binary(max_size=300))
    if opcode == 0x8 and draw(st.booleans()):
        payload = struct.pack("!H", draw(st.integers(0, 5000))) + draw(st.text(max_size=20)).encode()
    if opcode == 0x1 and draw(st.booleans()):
        payload = draw(st.text(max_size=100)).encode()
    fin = draw(st.booleans())
    rsv = draw(st.sampled_from([0, 0, 0, 0x10, 0x40]))
    if draw(st.integers(0, 9)) == 0:
        return frame_header(opcode, len(payload), fin, rsv, masked=False) + payload
    return mask_frame(opcode, payload, fin, rsv)


streams = st.one_of(
    st.binary(max_size=2000),
    st.lists(frame_bytes(), max_size=8).map(b"".join),
).flatmap(lambda data: st.tuples(st.just(data), st.integers(0, len(data))))


@given(streams, st.integers(1, 64))
@settings(max_examples=FUZZ_EXAMPLES * 5, deadline=None)
def test_reader_yields_events_or_protocol_errors(stream: "tuple[bytes, int]", chunk: int) -> None:
    data, _ = stream
    results: List[List[object]] = []
    for step in (len(data) or 1, chunk):
        reader = MessageReader(max_size=1000)
        events: List[object] = []
        try:
            for start in range(0, len(data), step):
                reader.feed(data[start : start + step])
                events.extend(reader.events())
        except ProtocolError as error:
            assert 1002 <= error.code <= 1009
            events.append(("error", error.code))
        results.append(events)
    assert results[0] == results[1], "splitting the bytes differently changed the outcome"


class ErrorRecorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: List[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def fuzz_server() -> Iterator[PollServer]:
    """One server for every example of a test (hypothesis reuses function-scoped fixtures)."""
    with Hub() as hub, PollServer(hub, port=0, max_vote_rate=0, close_timeout=0.5) as server:
        hub.create_poll("Fuzz?", ["A", "B"])
        yield server


@given(streams)
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_server_survives_random_streams(fuzz_server: PollServer, stream: "tuple[bytes, int]") -> None:
    data, cut = stream
    recorder = ErrorRecorder()
    logging.getLogger("pollhub").addHandler(recorder)
    try:
        with RawClient(fuzz_server.port) as client:
            client.handshake()
            try:
                client.send(data[:cut])
                client.sock.shutdown(socket.SHUT_WR)  # a truncated stream: the client stops mid-frame
                client.read_to_end()  # the server must end the connection by itself
            except (ConnectionResetError, BrokenPipeError):
                pass
        wait_until(lambda: fuzz_server.connection_count == 0, timeout=5)
    finally:
        logging.getLogger("pollhub").removeHandler(recorder)
    assert recorder.records == []
    assert threading.active_count() < 50
    assert fuzz_server.hub.running
