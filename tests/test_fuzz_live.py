"""Property-based tests of the protocol through a live server: any JSON in any field gets one answer.

A PollServer on a loopback port, with polls of every kind, gets messages of
every type from an admin and a participant connection (websocket-client),
each with some fields set to arbitrary JSON: strings with lone surrogates
and control characters, deep nesting, huge numbers, NaN and Infinity; and
raw text frames. For each, the client gets exactly one reply carrying its
``ref`` (an ``error``, ``ok``, ``voted``, ``hello``, ``asked`` or ``upvoted``) and the connection
stays open, or, where RFC 6455 says so (invalid UTF-8, a message over the
size limit), the server closes it with 1007 or 1009. The hub thread keeps
running and nothing is logged at ERROR or with a traceback.

Replies are counted up to the reply to a *sentinel* message sent right after
each fuzzed one (a vote in a poll that does not exist, with its own ref):
the server answers a connection's messages in order, so every reply before
the sentinel's belongs to the fuzzed message, which also covers messages
whose ref is itself fuzzed or that have none (bare text).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
import websocket
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pollhub import Hub, PollServer
from pollhub.connection import MAX_SIZE

from .conftest import TIMEOUT

EXAMPLES = int(os.environ.get("POLLHUB_FUZZ_EXAMPLES", "60")) * 4  # 240 by default
TOKEN = "secret"
REPLY_TYPES = frozenset({"error", "ok", "voted", "hello", "asked", "upvoted"})  # one of these answers each message
KINDS = ("single", "multiple", "counter", "scale", "words", "open")

#: Every message type and its fields, as pollhub/protocol.py reads them (besides "type" and "ref").
FIELDS: Dict[str, Tuple[str, ...]] = {
    "hello": ("voter", "token"),
    "vote": ("poll", "option", "options", "value", "text"),
    "create_poll": ("question", "options", "kind", "max_choices", "min", "max", "max_answers", "results", "changes"),
    "close_poll": ("poll",),
    "open_poll": ("poll", "close_after"),
    "reset_poll": ("poll",),
    "delete_poll": ("poll",),
    "set_current": ("poll",),
    "reveal_poll": ("poll",),
    "update_poll": ("poll", "results", "changes"),
    "hide_answer": ("poll", "text"),
    "order_polls": ("polls",),
    "next_poll": (),
    "previous_poll": (),
    "ask": ("text", "name"),
    "upvote": ("question",),
    "unvote": ("question",),
    "approve_question": ("question",),
    "dismiss_question": ("question",),
    "answer_question": ("question",),
    "highlight_question": ("question",),
    "qa_settings": ("moderation", "open", "stage"),
}
QUESTION_TYPES = ("upvote", "unvote", "approve_question", "dismiss_question", "answer_question", "highlight_question")


class Raw(str):
    """JSON text put into a message as it is: what json.dumps will not write (deep nesting, huge numbers)."""


class PollSlot(int):
    """The id of the base poll of kind ``KINDS[slot]``, looked up when the message is sent."""


def to_json(value: Any, polls: List[str]) -> str:
    """``value`` as JSON text, ASCII only: lone surrogates become \\u escapes, NaN stays NaN."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, PollSlot):
        return json.dumps(polls[value])
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{to_json(v, polls)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(to_json(v, polls) for v in value) + "]"
    return json.dumps(value)  # ensure_ascii and allow_nan by default


# Strategies ------------------------------------------------------------------------

odd_characters = st.sampled_from(
    ["\ud800", "\udbff", "\udc00", "\udfff", "\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b", "\t", "\n", "\r",
     "\u200b", "\u00ad", "\u202e", "\u2028", "\ufeff", "\uff33", "\u0430", "~", '"', "\\", "[", "{"]
)  # fmt: skip
texts = st.text(st.one_of(st.characters(), odd_characters), max_size=20) | st.sampled_from(
    ["", " ", "a", "p", "single", "words", "always", "hidden", "locked", "~1", "x" * 129, "x" * 1001]
)
raw_values = st.one_of(
    st.integers(1, 5000).map(lambda n: Raw("[" * n + "]" * n)),  # past the recursion limit (1000)
    st.integers(1, 2000).map(lambda n: Raw('{"a":' * n + "1" + "}" * n)),
    st.integers(1, 6000).map(lambda n: Raw("9" * n)),  # past Python 3.11's 4300 digits
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e400", "1E-400", "-0", "1.0e2", "1" * 41]).map(Raw),
)
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**200), max_value=2**200),
    st.floats(),
    texts,
    raw_values,
    st.integers(0, len(KINDS) - 1).map(PollSlot),
)
json_values = st.recursive(
    leaves, lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4), max_leaves=10
)


def base_message(kind: str, slot: PollSlot) -> Dict[str, Any]:
    """A valid message of type ``kind`` about the poll in ``slot`` (the fuzz then changes some fields)."""
    poll_kind = KINDS[slot]
    choice = {"single": "a", "counter": "b", "multiple": ["a", "b"], "scale": 3, "words": "Spam", "open": "An idea"}[poll_kind]
    field = {
        "single": "option", "counter": "option", "multiple": "options", "scale": "value", "words": "text", "open": "text"
    }
    return {
        "hello": {"voter": "fuzzer"},
        "vote": {"poll": slot, field[poll_kind]: choice},
        "create_poll": {"question": "Fuzzed?", "options": ["a", "b"]},
        "open_poll": {"poll": slot, "close_after": 60},
        "update_poll": {"poll": slot, "results": "always"},
        "hide_answer": {"poll": slot, "text": "spam"},
        "order_polls": {"polls": [PollSlot(i) for i in range(len(KINDS))]},
        "ask": {"text": "Fuzzed question?", "name": "Fuzz"},
        "qa_settings": {"open": True, "stage": "qa"},
        **{name: {"question": "q1"} for name in QUESTION_TYPES},
    }.get(kind, {} if kind in ("next_poll", "previous_poll") else {"poll": slot})


@st.composite
def json_messages(draw: st.DrawFn) -> Dict[str, Any]:
    """A message of any type, with up to three of its fields (type and ref included) set to any JSON value."""
    kind = draw(st.sampled_from(sorted(FIELDS)))
    data: Dict[str, Any] = {"type": kind, **base_message(kind, draw(st.integers(0, len(KINDS) - 1).map(PollSlot)))}
    names = list(dict.fromkeys(FIELDS[kind] + ("type", "ref", draw(texts))))
    for name in draw(st.lists(st.sampled_from(names), max_size=3, unique=True)):
        data[name] = draw(json_values)
    return data


# A frame: ("json", message, admin) or ("raw", bytes, admin).
frames = st.one_of(
    st.tuples(st.just("json"), json_messages(), st.booleans()),
    st.tuples(st.just("json"), json_values, st.booleans()),
    st.tuples(st.just("raw"), st.text(max_size=200).map(lambda t: t.encode("utf-8")), st.booleans()),
    st.tuples(st.just("raw"), st.binary(max_size=200), st.booleans()),
    st.tuples(st.just("raw"), texts.map(lambda t: t.encode("utf-8", "surrogatepass")), st.booleans()),
)


# The live server -----------------------------------------------------------------


class ErrorRecorder(logging.Handler):
    """Keeps log records at ERROR or above, and any record with a traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: List[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)


class Peer:
    """A websocket-client connection to the server, opened again if the server closed it."""

    def __init__(self, url: str, admin: bool) -> None:
        self.url, self.admin = url, admin
        self.ws: Optional[websocket.WebSocket] = None
        self.refs = itertools.count(1)

    def connect(self) -> websocket.WebSocket:
        if self.ws is None:
            self.ws = websocket.create_connection(self.url, timeout=TIMEOUT)
            if self.admin:
                self.ws.send(json.dumps({"type": "hello", "token": TOKEN, "ref": "admin"}))
                assert self.replies_until("admin") == []
        return self.ws

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
            self.ws = None

    def next_frame(self) -> Tuple[int, bytes]:
        assert self.ws is not None
        frame = self.ws.recv_frame()  # not recv_data_frame(), which answers a close and may hit a closed socket
        return frame.opcode, frame.data

    def replies_until(self, sentinel: str) -> List[Dict[str, Any]]:
        """Every reply (error, ok, voted, hello) before the one whose ref is ``sentinel``; fails on a close."""
        replies = []
        while True:
            opcode, data = self.next_frame()
            assert opcode != websocket.ABNF.OPCODE_CLOSE, f"connection closed: {data!r}"
            if opcode != websocket.ABNF.OPCODE_TEXT:
                continue
            message = json.loads(data.decode("utf-8"))
            if message.get("ref") == sentinel:
                return replies
            if message["type"] in REPLY_TYPES:
                replies.append(message)

    def close_code(self) -> int:
        """The code of the close frame the server sends next (other frames skipped)."""
        while True:
            opcode, data = self.next_frame()
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return int.from_bytes(data[:2], "big")

    def exchange(self, payload: bytes, ref: Any) -> None:
        """Send one text frame and check what comes back (a failed check leaves the next example a new connection)."""
        try:
            self._exchange(payload, ref)
        except BaseException:
            self.close()
            raise

    def _exchange(self, payload: bytes, ref: Any) -> None:
        ws = self.connect()
        try:
            ws.send(payload, opcode=websocket.ABNF.OPCODE_TEXT)
        except (BrokenPipeError, ConnectionResetError):
            assert len(payload) > MAX_SIZE  # the server may close before the rest of a message too big is sent
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError:
            assert self.close_code() == 1007  # RFC 6455 8.1: a text message that is not UTF-8
            self.close()
            return
        if len(payload) > MAX_SIZE:
            assert self.close_code() == 1009
            self.close()
            return
        sentinel = f"sentinel-{next(self.refs)}"
        ws.send(json.dumps({"type": "vote", "poll": "no-such-poll", "option": "a", "ref": sentinel}))
        replies = self.replies_until(sentinel)
        assert len(replies) == 1, f"{len(replies)} replies to {payload[:300]!r}: {replies}"
        if replies[0].get("code") != "bad_json" and isinstance(ref, int) and not isinstance(ref, bool):
            assert replies[0].get("ref") == ref, replies[0]  # text that does not decode has no ref to carry


class Live:
    """A hub and server with a base poll of every kind, and an admin and a participant connection."""

    def __init__(self, hub: Hub, server: PollServer) -> None:
        self.hub, self.server = hub, server
        self.slots: List[str] = []
        self.admin, self.participant = Peer(server.url, admin=True), Peer(server.url, admin=False)
        self.refs = itertools.count(1)

    def reset_polls(self) -> None:
        """Bring back deleted base polls and delete the fuzzed ones, so that every example starts alike."""
        ids = {poll.id for poll in self.hub.polls()}
        for i, kind in enumerate(KINDS):
            if i >= len(self.slots) or self.slots[i] not in ids:
                options = ("A", "B", "C") if kind in ("single", "multiple", "counter") else ()
                poll_id = self.hub.create_poll(f"{kind.title()} poll?", options, kind).id
                self.slots[i:i + 1] = [poll_id]
        for poll_id in ids - set(self.slots):
            self.hub.delete_poll(poll_id)


@pytest.fixture
def live() -> Iterator[Live]:
    """One server for every example of a test (hypothesis reuses function-scoped fixtures)."""
    # Wrong tokens are what a fuzzer sends most: no delay, and no close after a few
    # (tests/test_abuse.py covers those); no per-address limits either.
    unlimited = dict(max_vote_rate=0, max_address_vote_rate=0, new_voter_rate=0, max_token_failures=0, token_delay=0)
    with Hub() as hub, PollServer(hub, port=0, token=TOKEN, close_timeout=0.5, **unlimited) as server:
        running = Live(hub, server)
        try:
            yield running
        finally:
            running.admin.close()
            running.participant.close()


def send_and_check(live: Live, frame: Tuple[str, Any, bool]) -> None:
    form, value, admin = frame
    peer = live.admin if admin else live.participant
    recorder = ErrorRecorder()
    logging.getLogger("pollhub").addHandler(recorder)
    try:
        live.reset_polls()
        ref: Any = None
        if form == "raw":
            payload = value
        else:
            if isinstance(value, dict) and "ref" not in value:
                value = {**value, "ref": next(live.refs)}
            ref = value.get("ref") if isinstance(value, dict) else None
            if isinstance(ref, PollSlot):  # sent as that poll's id (an int subclass: it would pass for a number)
                ref = live.slots[ref]
            payload = to_json(value, live.slots).encode("ascii")
        peer.exchange(payload, ref)
        assert live.hub.running
    finally:
        logging.getLogger("pollhub").removeHandler(recorder)
    assert [f"{r.levelname} {r.getMessage()}" for r in recorder.records] == []


@given(frames)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_message_gets_one_reply(live: Live, frame: Tuple[str, Any, bool]) -> None:
    send_and_check(live, frame)


ANY_JSON = [None, True, 0, -1, 2**64, 1.5, "", "a", "\ud800", "\x00", "~x", [], ["a"], [["a"]], {}, {"a": 1},
            Raw("NaN"), Raw("Infinity"), Raw("1e999"), Raw("9" * 5000), Raw("[" * 5000 + "]" * 5000)]  # fmt: skip


@pytest.mark.parametrize("admin", [True, False], ids=["admin", "participant"])
def test_every_field_of_every_type_set_to_every_json_type(live: Live, admin: bool) -> None:
    """The full grid, not left to chance: each field of each message type (type and ref too) set to each value."""
    for kind in sorted(FIELDS):
        for name in FIELDS[kind] + ("type", "ref"):
            for value in ANY_JSON:
                for slot in range(len(KINDS)):
                    data = {"type": kind, **base_message(kind, PollSlot(slot)), name: value}
                    send_and_check(live, ("json", data, admin))
                    if "poll" not in data or name == "poll":
                        break  # one poll is enough where the poll does not matter


def test_too_big_and_invalid_utf8_close_the_connection(live: Live) -> None:
    """The two closes RFC 6455 asks for; the next connection works."""
    send_and_check(live, ("raw", b'{"type":"vote","text":"' + b"x" * MAX_SIZE + b'"}', False))
    send_and_check(live, ("raw", "\ud800".encode("utf-8", "surrogatepass"), False))
    send_and_check(live, ("raw", b"\xff\xfe", True))
    send_and_check(live, ("json", {"type": "next_poll"}, True))


def test_sentinel_counting_catches_a_missing_reply(live: Live) -> None:
    """The check itself: a frame that gets no reply fails it (a ping, which the server answers with a pong)."""
    ws = live.participant.connect()
    ws.ping(b"x")
    sentinel = "check"
    ws.send(json.dumps({"type": "vote", "poll": "no-such-poll", "option": "a", "ref": sentinel}))
    assert live.participant.replies_until(sentinel) == []
