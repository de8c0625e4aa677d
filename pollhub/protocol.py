"""Wire protocol version 1: JSON objects in WebSocket text frames, with no I/O.

:func:`parse` turns a client's text message into a command object (or raises a
:class:`~pollhub.errors.PollhubError` whose ``code`` goes back in an ``error``
message); the functions named after server messages build them as dicts, and
:class:`Message` encodes one once for every client it goes to. README.rst
documents the protocol with an example session.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Tuple, Union

from . import frames
from .errors import BadJSON, BadMessage, PollhubError
from .polls import SINGLE, check_new_poll

VERSION = 1
MAX_ID_LENGTH = 128  # voter ids, poll ids, option ids, refs
Ref = Union[str, int, None]


class Hello(NamedTuple):
    voter: Optional[str]
    token: Optional[str]
    ref: Ref = None


class Vote(NamedTuple):
    """A vote for an option, by id or label, in a poll (None: the current poll)."""

    option: str
    poll: Optional[str] = None
    ref: Ref = None


class CreatePoll(NamedTuple):
    question: str
    options: Tuple[str, ...]
    kind: str = SINGLE
    ref: Ref = None


class PollAction(NamedTuple):
    """An admin action on one poll: ``open``, ``close``, ``reset``, ``delete`` or ``set_current``."""

    action: str
    poll: str
    ref: Ref = None


Command = Union[Hello, Vote, CreatePoll, PollAction]

#: Message type -> the PollAction it stands for.
POLL_ACTIONS = {
    "open_poll": "open",
    "close_poll": "close",
    "reset_poll": "reset",
    "delete_poll": "delete",
    "set_current": "set_current",
}
ADMIN_TYPES = frozenset(POLL_ACTIONS) | {"create_poll"}


def parse(text: str) -> Command:
    """Parse one text message from a client.

    A message that is not a JSON object is taken as a vote in the current
    poll for the option with that id or label (so ``wscat`` works).
    Raises :class:`BadMessage` for a JSON object that is not a valid message.
    """
    stripped = text.strip()
    if not stripped.startswith(("{", "[", '"')):
        if not stripped or len(stripped) > MAX_ID_LENGTH:
            raise BadJSON("expected a JSON object, or the id or label of an option to vote for")
        return Vote(option=stripped)
    try:
        data = json.loads(stripped)
    except ValueError as exc:
        raise BadJSON(f"invalid JSON: {exc}") from None
    if isinstance(data, str) and data.strip():
        return Vote(option=data)
    if not isinstance(data, dict):
        raise BadMessage("expected a JSON object with a \"type\"")
    return parse_object(data)


def parse_object(data: Mapping[str, Any]) -> Command:
    """Parse a decoded JSON object into a command; raise :class:`BadMessage`."""
    ref = _ref(data)
    try:
        return _parse_typed(data, ref)
    except PollhubError as exc:
        exc.ref = ref  # so that the error reply still carries the ref
        raise


def _parse_typed(data: Mapping[str, Any], ref: Ref) -> Command:
    kind = data.get("type")
    if kind == "vote":
        return Vote(option=_id(data, "option"), poll=_id(data, "poll", required=False), ref=ref)
    if kind == "hello":
        token = data.get("token")
        if token is not None and not isinstance(token, str):
            raise BadMessage("token must be a string")
        return Hello(voter=_id(data, "voter", required=False), token=token, ref=ref)
    if kind == "create_poll":
        question, options, poll_kind = check_new_poll(data.get("question"), data.get("options"), data.get("kind", SINGLE))
        return CreatePoll(question, tuple(options), poll_kind, ref)
    if kind in POLL_ACTIONS:
        return PollAction(POLL_ACTIONS[kind], _id(data, "poll"), ref)
    if not isinstance(kind, str):
        raise BadMessage("every message needs a \"type\"")
    raise BadMessage(f"unknown message type {kind!r}")


def _id(data: Mapping[str, Any], name: str, required: bool = True) -> Optional[str]:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
        raise BadMessage(f"{name!r} must be a string of 1 to {MAX_ID_LENGTH} characters")
    return value


def _ref(data: Mapping[str, Any]) -> Ref:
    ref = data.get("ref")
    if ref is None or (isinstance(ref, int) and not isinstance(ref, bool)):
        return ref
    if isinstance(ref, str) and len(ref) <= MAX_ID_LENGTH:
        return ref
    raise BadMessage(f"'ref' must be an integer or a string of at most {MAX_ID_LENGTH} characters")


# Server to client -----------------------------------------------------------------


class Message:
    """One server message, encoded to JSON once however many clients receive it.

    ``frame`` (the WebSocket text frame) is also built once, on first use.
    ``key`` marks a message that makes an older one with the same key stale
    (the results of one poll), so a slow client's queue keeps only the newest;
    ``seal`` marks a message that older ones with that key must not jump
    over (a poll's full state). See :class:`pollhub.connection.SendQueue`.
    """

    __slots__ = ("data", "key", "seal", "payload", "_frame")

    def __init__(self, data: Dict[str, Any], key: Optional[str] = None, seal: Optional[str] = None) -> None:
        self.data = data
        self.key = key
        self.seal = seal
        self.payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        self._frame: Optional[bytes] = None

    @property
    def type(self) -> str:
        return self.data["type"]

    @property
    def frame(self) -> bytes:
        if self._frame is None:
            self._frame = frames.encode_frame(frames.OP_TEXT, self.payload)
        return self._frame

    def __repr__(self) -> str:
        return f"Message({self.data!r})"


def _with_ref(data: Dict[str, Any], ref: Ref) -> Dict[str, Any]:
    if ref is not None:
        data["ref"] = ref
    return data


def welcome(current: Optional[str], polls: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {"type": "welcome", "version": VERSION, "current": current, "polls": polls}


def hello_reply(voter: str, admin: bool, choices: Dict[str, str], ref: Ref = None) -> Dict[str, Any]:
    return _with_ref({"type": "hello", "voter": voter, "admin": admin, "choices": choices}, ref)


def results_key(poll_id: str) -> str:
    """The ``Message.key`` of a poll's results (and the ``seal`` of its full state)."""
    return f"results:{poll_id}"


def results(poll_id: str, counts: Dict[str, int], total: int, seq: int) -> Dict[str, Any]:
    return {"type": "results", "poll": poll_id, "counts": counts, "total": total, "seq": seq}


def voted(poll_id: str, option_id: str, ref: Ref = None) -> Dict[str, Any]:
    return _with_ref({"type": "voted", "poll": poll_id, "option": option_id}, ref)


def ok(poll_id: Optional[str], ref: Ref = None) -> Dict[str, Any]:
    return _with_ref({"type": "ok", "poll": poll_id}, ref)


def poll(poll_json: Dict[str, Any]) -> Dict[str, Any]:
    return {"type": "poll", "poll": poll_json}


def current(poll_id: Optional[str]) -> Dict[str, Any]:
    return {"type": "current", "poll": poll_id}


def deleted(poll_id: str) -> Dict[str, Any]:
    return {"type": "deleted", "poll": poll_id}


def presence(participants: int) -> Dict[str, Any]:
    return {"type": "presence", "participants": participants}


def error(exc: PollhubError, ref: Ref = None) -> Dict[str, Any]:
    return _with_ref({"type": "error", "code": exc.code, "message": exc.message}, ref)
