"""Wire protocol with no I/O: parse() of every client message, bad input, refs, server messages."""

from __future__ import annotations

import json
from typing import Any

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
    assert protocol.welcome(None, []) == {"type": "welcome", "version": 2, "current": None, "polls": []}
