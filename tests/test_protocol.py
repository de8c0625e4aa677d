"""Wire protocol with no I/O: parse() of every client message, bad input, refs, server messages."""

from __future__ import annotations

import json
import logging
from typing import Any, Dict

import pytest

from pollhub import BadJSON, BadMessage, PollClosed
from pollhub import protocol
from pollhub.polls import Settings
from pollhub.protocol import CreatePoll, Hello, Message, PollAction, Vote, parse


def bad(text: str) -> BadMessage:
    """The BadMessage (or BadJSON) that parsing ``text`` raises."""
    with pytest.raises(BadMessage) as info:
        parse(text)
    return info.value


def msg(**fields: Any) -> str:
    return json.dumps(fields)


# Every message type --------------------------------------------------------------


def test_vote() -> None:
    """A vote names an option; the poll and ref are optional."""
    assert parse(msg(type="vote", option="pizza")) == Vote("pizza", None, None)
    assert parse(msg(type="vote", option="pizza", poll="lunch", ref=7)) == Vote("pizza", "lunch", 7)


def test_hello() -> None:
    """A hello may carry a voter id and an admin token, or nothing."""
    assert parse(msg(type="hello")) == Hello(None, None, None)
    assert parse(msg(type="hello", voter="ann", token="secret", ref="h1")) == Hello("ann", "secret", "h1")


def test_create_poll() -> None:
    """create_poll cleans the question and labels; kind defaults to single."""
    command = parse(msg(type="create_poll", question="  Lunch \n today? ", options=["Pizza", " Ice   cream "], ref=1))
    assert command == CreatePoll("Lunch today?", ("Pizza", "Ice cream"), Settings(), 1)
    assert parse(msg(type="create_poll", question="Q", options=["a", "b"], kind="counter")).settings.kind == "counter"


@pytest.mark.parametrize(
    "kind, action",
    [
        ("close_poll", "close"),
        ("reset_poll", "reset"),
        ("delete_poll", "delete"),
        ("set_current", "set_current"),
        ("reveal_poll", "reveal"),
    ],
)
def test_poll_actions(kind: str, action: str) -> None:
    """Each admin poll message becomes a PollAction naming its poll."""
    assert parse(msg(type=kind, poll="lunch", ref=3)) == PollAction(action, "lunch", 3)


@pytest.mark.parametrize(
    "kind", ["open_poll", "close_poll", "reset_poll", "delete_poll", "set_current", "reveal_poll", "update_poll"]
)
def test_poll_actions_need_a_poll(kind: str) -> None:
    """An admin poll message without a poll id is refused."""
    assert bad(msg(type=kind)).code == "bad_message"


def test_surrounding_whitespace_is_ignored() -> None:
    """Whitespace around a JSON object does not turn it into a bare-text vote."""
    assert parse('\n  {"type": "vote", "option": "a"}  \n') == Vote("a")


# Bare text -----------------------------------------------------------------------


@pytest.mark.parametrize("text, option", [("pizza", "pizza"), ("  Ice cream \n", "Ice cream"), ("42", "42"), ("null", "null")])
def test_bare_text_is_a_vote(text: str, option: str) -> None:
    """Text that is not JSON is a vote for that option (id or label) in the current poll."""
    assert parse(text) == Vote(option)


def test_json_string_is_a_vote() -> None:
    """A JSON string is a vote too (``wscat`` users may quote their choice)."""
    assert parse('"Ice cream"') == Vote("Ice cream")


@pytest.mark.parametrize("text", ["", "   ", "x" * 129])
def test_empty_or_long_bare_text_is_bad_json(text: str) -> None:
    """Empty text, or text too long to be an option id: bad_json."""
    error = bad(text)
    assert isinstance(error, BadJSON)
    assert error.code == "bad_json"


def test_bare_text_of_128_characters_is_a_vote() -> None:
    """128 characters is the longest option id."""
    assert parse("x" * 128) == Vote("x" * 128)


# Bad input -----------------------------------------------------------------------


@pytest.mark.parametrize("text", ['{"type": "vote"', "{not json}", '["unclosed', '{"type": "vote"}}'])
def test_invalid_json_is_bad_json(text: str) -> None:
    """Text that starts like JSON but does not parse: BadJSON, code bad_json."""
    error = bad(text)
    assert isinstance(error, BadJSON)
    assert error.code == "bad_json"


@pytest.mark.parametrize("text", ["[]", '["vote", "a"]', '""', '"   "'])
def test_json_that_is_not_an_object_is_bad_message(text: str) -> None:
    """Valid JSON that is neither an object nor a non-empty string: bad_message."""
    error = bad(text)
    assert not isinstance(error, BadJSON)
    assert error.code == "bad_message"


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"type": None},
        {"type": 1},
        {"type": "nope"},
        {"type": "VOTE", "option": "a"},
        {"type": "vote"},
        {"type": "vote", "option": 5},
        {"type": "vote", "option": ""},
        {"type": "vote", "option": ["a"]},
        {"type": "vote", "option": "x" * 129},
        {"type": "vote", "option": "a", "poll": 3},
        {"type": "vote", "option": "a", "poll": ""},
        {"type": "hello", "voter": 12},
        {"type": "hello", "voter": ""},
        {"type": "hello", "token": 12},
        {"type": "create_poll", "question": "Q", "options": "ab"},
        {"type": "create_poll", "question": "Q", "options": ["only one"]},
        {"type": "create_poll", "question": "Q", "options": ["a", 2]},
        {"type": "create_poll", "question": "Q", "options": ["a", "  "]},
        {"type": "create_poll", "question": "Q", "options": ["Yes", "yes"]},
        {"type": "create_poll", "question": "Q", "options": [f"o{i}" for i in range(33)]},
        {"type": "create_poll", "question": "Q", "options": ["a", "x" * 101]},
        {"type": "create_poll", "question": "", "options": ["a", "b"]},
        {"type": "create_poll", "question": 7, "options": ["a", "b"]},
        {"type": "create_poll", "question": "x" * 301, "options": ["a", "b"]},
        {"type": "create_poll", "question": "Q", "options": ["a", "b"], "kind": "ranked"},
        {"type": "close_poll", "poll": 1},
    ],
)
def test_wrong_fields_are_bad_message(data: Any) -> None:
    """A JSON object with a missing, unknown or wrongly typed field: BadMessage, code bad_message."""
    error = bad(json.dumps(data))
    assert not isinstance(error, BadJSON)
    assert error.code == "bad_message"


def test_128_character_ids_are_accepted() -> None:
    """Ids up to 128 characters are fine."""
    long_id = "p" * 128
    assert parse(msg(type="vote", option=long_id, poll=long_id)) == Vote(long_id, long_id)


# Refs ----------------------------------------------------------------------------


@pytest.mark.parametrize("ref", [0, -1, 2**40, "", "abc", "r" * 128, None])
def test_valid_refs_are_kept(ref: Any) -> None:
    """A ref may be any integer or a string of at most 128 characters, and is kept as is."""
    assert parse(msg(type="vote", option="a", ref=ref)).ref == ref


@pytest.mark.parametrize("ref", [True, False, 1.5, "r" * 129, [1], {"id": 1}])
def test_invalid_refs_are_bad_message(ref: Any) -> None:
    """Booleans, floats, containers and long strings are not refs."""
    assert bad(msg(type="vote", option="a", ref=ref)).code == "bad_message"


def test_bare_text_vote_has_no_ref() -> None:
    """Only JSON messages can carry a ref."""
    assert parse("pizza").ref is None


def test_replies_echo_the_ref() -> None:
    """Replies carry the request's ref, including falsy ones like 0 and ""; no ref, no key."""
    assert protocol.voted("p", "single", "a", 0) == {"type": "voted", "poll": "p", "option": "a", "ref": 0}
    assert protocol.ok("p", "")["ref"] == ""
    assert protocol.hello_reply("ann", False, {}, "h")["ref"] == "h"
    assert "ref" not in protocol.voted("p", "single", "a")
    assert "ref" not in protocol.ok(None)


def test_error_message() -> None:
    """An error message carries the exception's code and message, and the ref."""
    assert protocol.error(PollClosed("closed!"), ref=9) == {
        "type": "error",
        "code": "poll_closed",
        "message": "closed!",
        "ref": 9,
    }


# Server messages -----------------------------------------------------------------


def test_message_is_encoded_once_as_compact_utf8() -> None:
    """Message.payload is compact JSON in UTF-8 (not \\u escapes); frame is a cached text frame."""
    message = Message(protocol.voted("crème", "single", "brûlée"))
    assert message.payload == '{"type":"voted","poll":"crème","option":"brûlée"}'.encode("utf-8")
    assert message.type == "voted"
    frame = message.frame
    assert frame[0] == 0x81 and frame[1] == len(message.payload)
    assert frame[2:] == message.payload
    assert message.frame is frame


def test_welcome_names_the_protocol_version() -> None:
    """The welcome message says which protocol version the server speaks."""
    assert protocol.welcome(None, []) == {
        "type": "welcome", "version": 2, "current": None, "polls": [], "limits": protocol.LIMITS
    }


def test_welcome_limits_are_the_ones_enforced() -> None:
    """The pages read these instead of writing the limits again: each must be the one the server applies."""
    from pollhub import polls

    limits = protocol.LIMITS
    assert limits["polls"] == polls.MAX_POLLS
    assert limits["options"] == [polls.MIN_OPTIONS, polls.MAX_OPTIONS]
    assert limits["answer_length"] == polls.MAX_ANSWER_LENGTH
    assert limits["close_after"] == [protocol.MIN_CLOSE_AFTER, protocol.MAX_CLOSE_AFTER]
    with pytest.raises(BadMessage):
        protocol.check_close_after(limits["close_after"][0] - 0.5)
    assert protocol.check_close_after(limits["close_after"][1]) == limits["close_after"][1]
    long_label = "x" * (limits["label_length"] + 1)
    with pytest.raises(BadMessage):
        polls.check_new_poll("Q?", ["ok", long_label], {})
    json.dumps(limits)  # plain JSON


# Strings that are not text ------------------------------------------------------

NOT_TEXT = ["\ud800", "a\udfffb", "\x00", "a\x1bb", "\x7f", "\x85", "a\nb"]


def with_field(kind: str, name: str, value: Any) -> str:
    """A valid message of type ``kind`` with field ``name`` set to ``value`` (surrogates as JSON escapes)."""
    base: Dict[str, Any] = {
        "vote": {"option": "a"},
        "hello": {},
        "create_poll": {"question": "Q?", "options": ["a", "b"]},
        "hide_answer": {"poll": "p", "text": "spam"},
        "order_polls": {"polls": ["p"]},
    }.get(kind, {"poll": "p"})
    return json.dumps({"type": kind, **base, name: value})


@pytest.mark.parametrize("value", NOT_TEXT)
@pytest.mark.parametrize(
    "kind, name",
    [
        ("vote", "option"),
        ("vote", "poll"),
        ("vote", "ref"),
        ("hello", "voter"),
        ("hello", "token"),
        ("close_poll", "poll"),
        ("open_poll", "poll"),
        ("hide_answer", "poll"),
    ],
)
def test_ids_tokens_and_refs_must_be_text(kind: str, name: str, value: str) -> None:
    """A lone surrogate or any control character (newline too) in an id, token or ref: bad_message naming it."""
    error = bad(with_field(kind, name, value))
    assert error.code == "bad_message" and f"'{name}'" in error.message
    assert "lone surrogates" in error.message


@pytest.mark.parametrize("value", [v for v in NOT_TEXT if v != "a\nb"])
@pytest.mark.parametrize(
    "kind, name, wrap, field",
    [
        ("vote", "text", lambda v: v, "'text'"),
        ("vote", "text", lambda v: ["ok", v], "'text'"),
        ("vote", "options", lambda v: ["a", v], "'options'"),
        ("hide_answer", "text", lambda v: v, "'text'"),
        ("order_polls", "polls", lambda v: ["p", v], "'polls'"),
        ("create_poll", "question", lambda v: v, "question"),
        ("create_poll", "options", lambda v: ["a", v], "option label"),
    ],
)
def test_answers_questions_and_labels_must_be_text(kind: str, name: str, wrap: Any, field: str, value: str) -> None:
    """Where a newline may be collapsed, other control characters and lone surrogates are still refused."""
    error = bad(with_field(kind, name, wrap(value)))
    assert error.code == "bad_message" and field in error.message


def test_tabs_and_newlines_are_allowed_where_they_collapse() -> None:
    """Words answers, answers to hide, questions and labels may hold tab, newline and carriage return."""
    assert parse(msg(type="vote", text="New\nYork")) == Vote("New\nYork")
    assert parse(msg(type="hide_answer", poll="p", text="bad\tword")).text == "bad\tword"
    assert parse(msg(type="create_poll", question="Q\r\n?", options=["a\tb", "c"])).options == ("a b", "c")


def test_hide_answer_needs_something_visible() -> None:
    assert "visible" in bad(msg(type="hide_answer", poll="p", text="\u200b\u00ad")).message


@pytest.mark.parametrize("text", ["pi\x00zza", "\x1b[2Jpizza", "a\x7fb", "a\x9bb"])
def test_bare_text_must_be_text(text: str) -> None:
    """A bare-text vote holding a control character: bad_json, like other bare text that is not a vote."""
    error = bad(text)
    assert isinstance(error, BadJSON) and "control characters" in error.message


@pytest.mark.parametrize("text", ['"\\ud800"', '"a\\u0000"', '"' + "x" * 1001 + '"'])
def test_json_string_vote_must_be_text(text: str) -> None:
    assert bad(text).code == "bad_message"


def test_clients_cannot_claim_server_voter_ids() -> None:
    """Voter ids starting with "~" are the server's (anonymous connections, the Python API)."""
    error = bad(msg(type="hello", voter="~1"))
    assert error.code == "bad_message" and "'~'" in error.message and "server" in error.message
    assert parse(msg(type="hello", voter="a~")).voter == "a~"


def test_unknown_type_is_shown_escaped_and_short() -> None:
    """The error message cannot carry a client's control characters or a whole long string back."""
    message = bad(msg(type="x\x1b[31m" + "y" * 500)).message
    assert "\x1b" not in message and len(message) < 100


# Wrong types and nesting --------------------------------------------------------

JSON_VALUES = [None, True, False, 0, -1, 2**63, 1.5, -0.0, "", "x", "\ud800", [], [1], ["a", "b"], {}, {"a": 1}, [[[]]]]
FIELDS = {
    "vote": ["poll", "option", "options", "value", "text"],
    "hello": ["voter", "token"],
    "create_poll": ["question", "options", "kind", "max_choices", "min", "max", "max_answers", "results", "changes"],
    "close_poll": ["poll"],
    "open_poll": ["poll", "close_after"],
    "reset_poll": ["poll"],
    "delete_poll": ["poll"],
    "set_current": ["poll"],
    "reveal_poll": ["poll"],
    "update_poll": ["poll", "results", "changes"],
    "hide_answer": ["poll", "text"],
    "order_polls": ["polls"],
    "next_poll": [],
    "previous_poll": [],
}


@pytest.mark.parametrize("kind", sorted(FIELDS))
def test_every_field_of_every_type_takes_any_json_value(kind: str) -> None:
    """Any JSON value in any field (type and ref too) parses or raises BadMessage: never another exception."""
    for name in FIELDS[kind] + ["type", "ref"]:
        for value in JSON_VALUES:
            try:
                parse(with_field(kind, name, value))
            except BadMessage:
                pass


@pytest.mark.parametrize("kind", [[], {}, ["vote"], {"a": "b"}, 1.5, True])
def test_type_of_the_wrong_json_type_is_bad_message(kind: Any) -> None:
    """An unhashable "type" used to raise TypeError (and drop the connection)."""
    assert bad(msg(type=kind)).message == 'every message needs a "type"'


@pytest.mark.parametrize("text", ["[" * 40000 + "]" * 40000, '{"a":' * 20000 + "1" + "}" * 20000, "[" * 9 + "]" * 9])
def test_deep_nesting_is_bad_json(text: str) -> None:
    """Nesting deeper than MAX_DEPTH is refused before the decoder recurses (it used to raise RecursionError)."""
    error = bad(text)
    assert isinstance(error, BadJSON) and f"more than {protocol.MAX_DEPTH} deep" in error.message


def test_nesting_up_to_the_limit_and_brackets_in_strings_are_fine() -> None:
    nested = '{"type":"vote","text":' + "[" * (protocol.MAX_DEPTH - 1) + '"a"' + "]" * (protocol.MAX_DEPTH - 1) + "}"
    assert bad(nested).code == "bad_message"  # decoded, then refused as a vote
    quoted = msg(type="vote", text="[[[[[[[[[[{{{{{{{{ \\\"[[[[[[[[[")
    assert parse(quoted) == Vote("[[[[[[[[[[{{{{{{{{ \\\"[[[[[[[[[")
    escaped = '{"type":"vote","text":"\\"[[[[[[[[[[[[[[\\\\"}'
    assert parse(escaped).choice == '"[[[[[[[[[[[[[[\\'


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e999", "-1e400"])
def test_nan_and_infinity_are_bad_json(constant: str) -> None:
    """Only standard JSON numbers: NaN and Infinity are not JSON, and 1e999 would become one."""
    for text in (f'{{"type":"open_poll","poll":"p","close_after":{constant}}}', f'{{"type":"vote","value":{constant}}}'):
        assert isinstance(bad(text), BadJSON)


@pytest.mark.parametrize("digits", [protocol.MAX_NUMBER_LENGTH + 1, 5000, 60000])
def test_long_numbers_are_bad_json(digits: int) -> None:
    """Numbers are at most MAX_NUMBER_LENGTH characters, on every Python version (3.9 has no digit limit)."""
    for number in ("9" * digits, "-" + "9" * digits, "1." + "5" * digits, "1e" + "1" * digits):
        error = bad(f'{{"type":"vote","option":"a","ref":{number}}}')
        assert isinstance(error, BadJSON) and "number" in error.message


def test_numbers_up_to_the_limit_are_kept() -> None:
    ref = int("9" * protocol.MAX_NUMBER_LENGTH)
    assert parse(msg(type="vote", option="a", ref=ref)).ref == ref
    assert parse(msg(type="open_poll", poll="p", close_after=1.25)).close_after == 1.25


# Countdown range -----------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 0.001, 0.999, -5, 86400.5, float("nan"), float("inf"), -float("inf"), True, "60"])
def test_close_after_out_of_range(value: Any) -> None:
    """close_after is 1 to 86400 seconds: less than a second (0.001 was accepted), NaN, inf and bools are not."""
    with pytest.raises(BadMessage, match="from 1 to 86400"):
        protocol.check_close_after(value)


@pytest.mark.parametrize("value", [1, 1.0, 2.5, 86400])
def test_close_after_in_range(value: Any) -> None:
    assert protocol.check_close_after(value) == float(value)


# Encoding never raises ------------------------------------------------------------


def test_message_with_a_lone_surrogate_is_sent_escaped(caplog: pytest.LogCaptureFixture) -> None:
    """UTF-8 cannot hold a lone surrogate: the message falls back to \\u escapes (valid UTF-8) instead of raising."""
    data = {"type": "results", "poll": "p", "counts": {"a\ud800": 1, "crème": 2}}
    protocol._logged.clear()
    with caplog.at_level(logging.WARNING, logger="pollhub"):
        message = Message(data)
        Message(dict(data))
    assert message.payload.decode("utf-8") == '{"type":"results","poll":"p","counts":{"a\\ud800":1,"cr\\u00e8me":2}}'
    assert json.loads(message.payload) == data
    assert message.frame[2:] == message.payload
    assert [r.levelno for r in caplog.records if "surrogate" in r.getMessage()] == [logging.WARNING]  # once


@pytest.mark.parametrize("value", [object(), {1, 2}, float("nan"), b"bytes"])
def test_message_json_cannot_hold_becomes_an_internal_error(value: Any, caplog: pytest.LogCaptureFixture) -> None:
    """A value JSON cannot hold is a bug: the client gets an internal error with the ref, the log says so once."""
    caplog.set_level(logging.ERROR, logger="pollhub")
    protocol._logged.clear()
    message = Message({"type": "ok", "poll": value, "ref": 7})
    assert json.loads(message.payload) == {
        "type": "error",
        "code": "internal",
        "message": "internal error: the server could not encode its reply",
        "ref": 7,
    }
    Message({"type": "ok", "poll": value, "ref": 8})
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is not None


def test_internal_error_leaves_out_a_ref_that_is_not_text() -> None:
    assert "ref" not in json.loads(Message({"type": "ok", "poll": object(), "ref": "\ud800"}).payload)
