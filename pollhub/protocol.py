"""Wire protocol version 2: JSON objects in WebSocket text frames, with no I/O.

:func:`parse` turns a client's text message into a command object (or raises a
:class:`~pollhub.errors.PollhubError` whose ``code`` goes back in an ``error``
message); the functions named after server messages build them as dicts, and
:class:`Message` encodes one once for every client it goes to. README.rst
documents the protocol with an example session.
"""

from __future__ import annotations

import json
import logging
import math
import re
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Set, Tuple, Union, cast

from . import frames
from .errors import BadJSON, BadMessage, InternalError, PollhubError
from . import polls, qa, quiz
from .polls import CHOICE_FIELDS, MAX_OPTIONS, Choice, Settings, check_new_poll, check_update
from .text import escape, has_visible, is_text

logger = logging.getLogger(__name__)

VERSION = 2  # 2 added poll kinds and presenter control; a version 1 client works with "always" polls
MAX_ID_LENGTH = 128  # voter ids, poll ids, option ids, refs
MAX_TEXT_LENGTH = 1000  # characters of one answer in a words vote, before the poll's own limit
MIN_CLOSE_AFTER = 1  # seconds: the shortest countdown
MAX_CLOSE_AFTER = 86400  # seconds: the longest countdown
MAX_DEPTH = 8  # arrays and objects inside one another in a message (a valid one needs 2)
MAX_NUMBER_LENGTH = 40  # characters of one JSON number (a 128-bit integer has 39 digits)
VOTE_FIELDS = ("option", "options", "value", "text")
#: Voter ids the server makes (anonymous connections, the Python API) start
#: with this; a client may not claim one.
SERVER_VOTER_PREFIX = "~"
Ref = Union[str, int, None]


class Hello(NamedTuple):
    voter: Optional[str]
    token: Optional[str]
    ref: Ref = None


class Vote(NamedTuple):
    """A vote in a poll (None: the current poll).

    ``choice`` is what the message carried in ``option``, ``options``,
    ``value`` or ``text``; the poll checks it against its kind.
    """

    choice: Choice
    poll: Optional[str] = None
    ref: Ref = None


class CreatePoll(NamedTuple):
    question: str
    options: Tuple[str, ...]
    settings: Settings = Settings()
    ref: Ref = None


class PollAction(NamedTuple):
    """An admin action on one poll: ``close``, ``reset``, ``delete``, ``set_current`` or ``reveal``."""

    action: str
    poll: str
    ref: Ref = None


class OpenPoll(NamedTuple):
    """Open a poll for voting; with ``close_after``, close it by itself after that many seconds."""

    poll: str
    close_after: Optional[float] = None
    ref: Ref = None


class UpdatePoll(NamedTuple):
    """Change who sees a poll's results and whether votes can change (None keeps a setting)."""

    poll: str
    results: Optional[str] = None
    changes: Optional[str] = None
    ref: Ref = None


class HideAnswer(NamedTuple):
    """Leave an answer of a words poll out of its results."""

    poll: str
    text: str
    ref: Ref = None


class OrderPolls(NamedTuple):
    """The order of every poll, for stepping through them."""

    polls: Tuple[str, ...]
    ref: Ref = None


class Step(NamedTuple):
    """Make the next (``+1``) or previous (``-1``) poll in the order current."""

    by: int
    ref: Ref = None


class Ask(NamedTuple):
    """A question for the audience Q&A; ``text`` and ``name`` are normalised (see :mod:`pollhub.qa`)."""

    text: str
    name: Optional[str] = None
    ref: Ref = None


class Upvote(NamedTuple):
    """Upvote a question (``upvoted`` True) or take one's upvote back."""

    question: str
    upvoted: bool = True
    ref: Ref = None


class QuestionAction(NamedTuple):
    """A presenter's decision on a question: ``published`` (approve), ``dismissed`` or ``answered``."""

    state: str
    question: str
    ref: Ref = None


class Highlight(NamedTuple):
    """Put a question on the stage (None: take it off)."""

    question: Optional[str]
    ref: Ref = None


class QASettings(NamedTuple):
    """Change the Q&A settings given (None keeps one)."""

    moderation: Optional[bool] = None
    open: Optional[bool] = None
    stage: Optional[str] = None
    ref: Ref = None


class SetNickname(NamedTuple):
    """The nickname a participant plays a quiz under (normalised; see :mod:`pollhub.quiz`)."""

    nickname: str
    ref: Ref = None


class RenameNickname(NamedTuple):
    """A presenter's change of a participant's nickname, found by the one it has now."""

    nickname: str
    to: str
    ref: Ref = None


class ResetQuiz(NamedTuple):
    """Forget every quiz question's answers and reveals: the leaderboard starts again (nicknames stay)."""

    ref: Ref = None


Command = Union[
    Hello, Vote, CreatePoll, PollAction, OpenPoll, UpdatePoll, HideAnswer, OrderPolls, Step,
    Ask, Upvote, QuestionAction, Highlight, QASettings, SetNickname, RenameNickname, ResetQuiz,
]
#: The commands that concern the Q&A rather than the polls.
QA_COMMANDS = (Ask, Upvote, QuestionAction, Highlight, QASettings)

#: Message type -> the PollAction it stands for.
POLL_ACTIONS = {
    "close_poll": "close",
    "reset_poll": "reset",
    "delete_poll": "delete",
    "set_current": "set_current",
    "reveal_poll": "reveal",
    "reveal_answer": "reveal_answer",
}
#: Message type -> the question state a QuestionAction sets.
QUESTION_ACTIONS = {
    "approve_question": qa.PUBLISHED,
    "dismiss_question": qa.DISMISSED,
    "answer_question": qa.ANSWERED,
}
ADMIN_TYPES = frozenset(POLL_ACTIONS) | frozenset(QUESTION_ACTIONS) | {
    "create_poll", "open_poll", "update_poll", "hide_answer", "order_polls", "next_poll", "previous_poll",
    "highlight_question", "qa_settings", "rename_nickname", "reset_quiz",
}


# JSON decoding -------------------------------------------------------------------

# A string (its closing quote optional, so that no input makes the search
# backtrack) or a bracket: what _too_deep() walks through.
_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)


def _too_deep(text: str) -> bool:
    """True when arrays and objects in ``text`` nest more than :data:`MAX_DEPTH` deep.

    Cheap for every vote (two counts); only text with more brackets is
    walked, once, in linear time. Brackets inside strings do not count;
    unbalanced brackets are left for the JSON decoder to refuse.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    depth = 0
    for match in _STRUCTURE.finditer(text):
        first = match.group()[0]
        if first == "[" or first == "{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif first == "]" or first == "}":
            depth -= 1
    return False


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _parse_int(digits: str) -> int:
    if len(digits) > MAX_NUMBER_LENGTH:
        raise ValueError(f"a number longer than {MAX_NUMBER_LENGTH} characters")
    return int(digits)


def _parse_float(digits: str) -> float:
    value = float(digits) if len(digits) <= MAX_NUMBER_LENGTH else math.inf
    if not math.isfinite(value):
        raise ValueError(f"a number too big or longer than {MAX_NUMBER_LENGTH} characters")
    return value


# Standard JSON only: no NaN or Infinity, numbers of a sane length (Python
# 3.9 has no limit on integer digits, and turning a long integer back into
# text, as a ref is, takes quadratic time).
_DECODER = json.JSONDecoder(parse_float=_parse_float, parse_int=_parse_int, parse_constant=_no_constant)


def decode(text: str) -> Any:
    """Decode a JSON text as pollhub accepts it; raises :class:`BadJSON`.

    Beyond invalid JSON, refused are ``NaN``, ``Infinity`` and
    ``-Infinity``, numbers longer than :data:`MAX_NUMBER_LENGTH` characters
    or too big for a float, and nesting deeper than :data:`MAX_DEPTH`.
    """
    if _too_deep(text):
        raise BadJSON(f"invalid JSON: arrays and objects nested more than {MAX_DEPTH} deep")
    try:
        return _DECODER.decode(text)
    except ValueError as exc:  # json.JSONDecodeError, and what the parse_* functions raise
        raise BadJSON(f"invalid JSON: {exc}") from None
    except RecursionError:  # not reached past _too_deep(); kept so that nothing else escapes
        raise BadJSON("invalid JSON: nested too deep") from None


def parse(text: str) -> Command:
    """Parse one text message from a client.

    A message that is not a JSON object is taken as a vote in the current
    poll: an option's id or label, a scale's value or a words answer (so
    ``wscat`` works); so is a JSON string. Bare text holding a control
    character other than tab or newline raises :class:`BadJSON`, as text
    that does not decode does (see :func:`decode`); a JSON string vote
    that is not text, or a JSON object that is not a valid message, raises
    :class:`BadMessage`. Never raises anything else.
    """
    stripped = text.strip()
    if not stripped.startswith(("{", "[", '"')):
        if not stripped or len(stripped) > MAX_ID_LENGTH:
            raise BadJSON("expected a JSON object, or the id or label of an option to vote for")
        if not is_text(stripped, multiline=True):
            raise BadJSON("a bare-text vote cannot hold control characters")
        return Vote(stripped)
    data = decode(stripped)
    if isinstance(data, str) and data.strip():
        if len(data) > MAX_TEXT_LENGTH or not is_text(data, multiline=True):
            raise BadMessage(
                f"a JSON string vote must be text of at most {MAX_TEXT_LENGTH} characters,"
                " without control characters or lone surrogates"
            )
        return Vote(data)
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
    if not isinstance(kind, str):  # before any lookup: a list or an object cannot be hashed
        raise BadMessage("every message needs a \"type\"")
    if kind == "vote":
        return Vote(_choice(data), _optional_id(data, "poll"), ref)
    if kind == "hello":
        token = data.get("token")
        if token is not None and (not isinstance(token, str) or not is_text(token)):
            raise BadMessage("'token' must be a string without control characters or lone surrogates")
        voter = _optional_id(data, "voter")
        if voter is not None and voter.startswith(SERVER_VOTER_PREFIX):
            raise BadMessage(f"'voter' ids starting with {SERVER_VOTER_PREFIX!r} are the server's")
        return Hello(voter=voter, token=token, ref=ref)
    if kind == "create_poll":
        question, options, settings = check_new_poll(data.get("question"), data.get("options"), data)
        return CreatePoll(question, tuple(options), settings, ref)
    if kind in POLL_ACTIONS:
        return PollAction(POLL_ACTIONS[kind], _id(data, "poll"), ref)
    if kind == "open_poll":
        return OpenPoll(_id(data, "poll"), check_close_after(data.get("close_after")), ref)
    if kind == "update_poll":
        check_update(Settings(), data.get("results"), data.get("changes"))
        return UpdatePoll(_id(data, "poll"), data.get("results"), data.get("changes"), ref)
    if kind == "hide_answer":
        text = data.get("text")
        if (
            not isinstance(text, str)
            or len(text) > MAX_TEXT_LENGTH
            or not is_text(text, multiline=True)
            or not has_visible(text)
        ):
            raise BadMessage(
                f"'text' must be the answer to hide: at most {MAX_TEXT_LENGTH} characters, something visible,"
                " no control characters or lone surrogates"
            )
        return HideAnswer(_id(data, "poll"), text, ref)
    if kind == "order_polls":
        polls = data.get("polls")
        if (
            not isinstance(polls, list)
            or not all(isinstance(p, str) and _is_id(p) for p in polls)
        ):
            raise BadMessage("'polls' must be the list of every poll id in the new order")
        return OrderPolls(tuple(polls), ref)
    if kind in ("next_poll", "previous_poll"):
        return Step(1 if kind == "next_poll" else -1, ref)
    if kind == "ask":
        return Ask(qa.check_text(data.get("text")), qa.check_name(data.get("name")), ref)
    if kind in ("upvote", "unvote"):
        return Upvote(_id(data, "question"), kind == "upvote", ref)
    if kind in QUESTION_ACTIONS:
        return QuestionAction(QUESTION_ACTIONS[kind], _id(data, "question"), ref)
    if kind == "highlight_question":
        return Highlight(_optional_id(data, "question"), ref)
    if kind == "nickname":
        return SetNickname(quiz.check_nickname(data.get("nickname")), ref)
    if kind == "rename_nickname":
        old = data.get("nickname")
        if not isinstance(old, str) or not is_text(old, multiline=True):
            raise BadMessage("'nickname' must be the nickname to change")
        return RenameNickname(old, quiz.check_nickname(data.get("to")), ref)
    if kind == "reset_quiz":
        return ResetQuiz(ref)
    if kind == "qa_settings":
        return check_qa_settings(data.get("moderation"), data.get("open"), data.get("stage"), ref)
    raise BadMessage(f"unknown message type '{escape(kind, 40)}'")


def check_qa_settings(moderation: Any, is_open: Any, stage: Any, ref: Ref = None) -> QASettings:
    """A ``qa_settings`` command from its fields (None: unchanged); raises :class:`BadMessage`."""
    for name, value in (("moderation", moderation), ("open", is_open)):
        if value is not None and not isinstance(value, bool):
            raise BadMessage(f"{name!r} must be true or false")
    if stage is not None and stage not in qa.STAGES:
        raise BadMessage(f"'stage' must be one of {', '.join(qa.STAGES)}")
    if moderation is None and is_open is None and stage is None:
        raise BadMessage("qa_settings changes 'moderation', 'open' or 'stage'")
    return QASettings(moderation, is_open, stage, ref)


def check_voter(voter: Any) -> str:
    """A voter id as a client may give it; raises :class:`BadMessage` (for ``Hub.vote`` as for ``hello``)."""
    return _id({"voter": voter}, "voter")


def _is_id(value: str) -> bool:
    """True for a string that can be an id or a ref: 1 to 128 characters, no control character or lone surrogate."""
    return 0 < len(value) <= MAX_ID_LENGTH and is_text(value)


def _optional_id(data: Mapping[str, Any], name: str) -> Optional[str]:
    """The id in field ``name``, or None without one; raises :class:`BadMessage` naming the field."""
    return None if data.get(name) is None else _id(data, name)


def _id(data: Mapping[str, Any], name: str) -> str:
    """The id in field ``name``; raises :class:`BadMessage` naming the field."""
    value = data.get(name)
    if not isinstance(value, str) or not _is_id(value):
        raise BadMessage(
            f"{name!r} must be a string of 1 to {MAX_ID_LENGTH} characters, without control characters"
            " or lone surrogates"
        )
    return value


def _choice(data: Mapping[str, Any]) -> Choice:
    given = [name for name in VOTE_FIELDS if data.get(name) is not None]
    if len(given) != 1:
        raise BadMessage("a vote carries one of 'option', 'options', 'value' or 'text'")
    name = given[0]
    if name == "option":
        return _id(data, "option")
    value = data[name]
    if name == "value":
        if not isinstance(value, int) or isinstance(value, bool):
            raise BadMessage("'value' must be a whole number")
        return value
    longest = MAX_ID_LENGTH if name == "options" else MAX_TEXT_LENGTH
    items = [value] if name == "text" and isinstance(value, str) else value
    multiline = name == "text"  # an answer's tabs and newlines are collapsed like its spaces
    if (
        not isinstance(items, list)
        or not 1 <= len(items) <= MAX_OPTIONS
        or not all(isinstance(item, str) and 0 < len(item) <= longest and is_text(item, multiline) for item in items)
    ):
        raise BadMessage(
            f"{name!r} must be a list of 1 to {MAX_OPTIONS} strings of at most {longest} characters,"
            " without control characters or lone surrogates"
        )
    return cast(Choice, value)


def check_close_after(value: Any) -> Optional[float]:
    """A countdown's length in seconds (None: no countdown).

    Raises :class:`BadMessage` for anything but a number from
    :data:`MIN_CLOSE_AFTER` to :data:`MAX_CLOSE_AFTER` (booleans, NaN and
    infinities included).
    """
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not MIN_CLOSE_AFTER <= value <= MAX_CLOSE_AFTER  # False for NaN
    ):
        raise BadMessage(f"'close_after' must be a number of seconds from {MIN_CLOSE_AFTER} to {MAX_CLOSE_AFTER}")
    return float(value)


def _ref(data: Mapping[str, Any]) -> Ref:
    """The message's ref: an integer or a string of at most 128 characters; raises :class:`BadMessage`."""
    ref = data.get("ref")
    if ref is None or (isinstance(ref, int) and not isinstance(ref, bool)):
        return ref
    if isinstance(ref, str) and len(ref) <= MAX_ID_LENGTH and is_text(ref):
        return ref
    raise BadMessage(
        f"'ref' must be an integer or a string of at most {MAX_ID_LENGTH} characters,"
        " without control characters or lone surrogates"
    )


# Server to client -----------------------------------------------------------------


class Message:
    """One server message, encoded to JSON once however many clients receive it.

    ``frame`` (the WebSocket text frame) is also built once, on first use.
    ``key`` marks a message that makes an older one with the same key stale
    (the results of one poll), so a slow client's queue keeps only the newest;
    ``seal`` marks a message that older ones with that key must not jump
    over (a poll's full state). See :class:`pollhub.connection.SendQueue`.
    Encoding never raises (the hub thread builds messages): see :func:`encode`.
    """

    __slots__ = ("data", "key", "seal", "payload", "_frame")

    def __init__(self, data: Dict[str, Any], key: Optional[str] = None, seal: Optional[str] = None) -> None:
        self.data = data
        self.key = key
        self.seal = seal
        self.payload = encode(data)
        self._frame: Optional[bytes] = None

    @property
    def type(self) -> str:
        return cast(str, self.data["type"])

    @property
    def frame(self) -> bytes:
        if self._frame is None:
            self._frame = frames.encode_frame(frames.OP_TEXT, self.payload)
        return self._frame

    def __repr__(self) -> str:
        return f"Message({self.data!r})"


_logged: Set[str] = set()  # what encode() has logged, so each problem is logged once


def _log_once(level: int, problem: str, text: str, exc_info: bool = False) -> None:
    if problem not in _logged:
        _logged.add(problem)
        logger.log(level, "%s (logged once)", text, exc_info=exc_info)


def encode(data: Dict[str, Any]) -> bytes:
    """A server message as compact JSON in UTF-8. Never raises.

    A lone surrogate anywhere in ``data`` (which UTF-8 cannot hold) is sent
    as a ``\\udXXX`` escape, with a warning logged once. Data JSON cannot
    hold at all (an object of another type, NaN, a cycle) is a bug: the
    message becomes an ``error`` with code ``internal`` (keeping ``data``'s
    ``ref`` if it has a valid one), and the error is logged once per kind
    of problem with its traceback.
    """
    try:
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        _log_once(
            logging.ERROR,
            f"dumps:{type(exc).__name__}:{data.get('type') if isinstance(data, dict) else None}",
            f"cannot encode a {escape(_type_of(data), 40)} message as JSON: {escape(exc)}",
            exc_info=True,
        )
        return _internal_error(data)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        _log_once(
            logging.WARNING,
            f"surrogate:{_type_of(data)}",
            f"a {escape(_type_of(data), 40)} message holds a lone surrogate: sent as an escape",
        )
        return json.dumps(data, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode("ascii")


def _type_of(data: Any) -> str:
    kind = data.get("type") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) else "?"


def _internal_error(data: Any) -> bytes:
    reply = error(InternalError("internal error: the server could not encode its reply"))
    ref = data.get("ref") if isinstance(data, dict) else None
    if (isinstance(ref, int) and not isinstance(ref, bool)) or (isinstance(ref, str) and _is_id(ref)):
        reply["ref"] = ref
    return json.dumps(reply, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _with_ref(data: Dict[str, Any], ref: Ref) -> Dict[str, Any]:
    if ref is not None:
        data["ref"] = ref
    return data


#: The limits a client needs to know to stay within them (the pages' forms), sent in every ``welcome``.
LIMITS: Dict[str, Any] = {
    "polls": polls.MAX_POLLS,
    "options": [polls.MIN_OPTIONS, polls.MAX_OPTIONS],
    "question_length": polls.MAX_QUESTION_LENGTH,
    "label_length": polls.MAX_LABEL_LENGTH,
    "scale": [-polls.SCALE_LIMIT, polls.SCALE_LIMIT],
    "scale_values": polls.MAX_SCALE_VALUES,
    "scale_default": list(polls.SCALE_DEFAULT),
    "answers": [1, polls.MAX_ANSWERS_LIMIT],
    "answers_default": polls.MAX_ANSWERS_DEFAULT,
    "answer_length": polls.MAX_ANSWER_LENGTH,
    "open_answer_length": polls.MAX_OPEN_ANSWER_LENGTH,
    "close_after": [MIN_CLOSE_AFTER, MAX_CLOSE_AFTER],
    "qa_question_length": qa.MAX_QUESTION_TEXT,
    "qa_name_length": qa.MAX_NAME_LENGTH,
    "qa_questions_per_minute": qa.QUESTIONS_PER_WINDOW,
    "quiz_time_limit": list(polls.QUIZ_TIME_LIMIT),
    "quiz_time_default": polls.QUIZ_TIME_DEFAULT,
    "nickname_length": list(quiz.NICKNAME_LENGTH),
}


def welcome(current: Optional[str], poll_list: List[Dict[str, Any]], limits: Mapping[str, Any] = LIMITS) -> Dict[str, Any]:
    """The first message on every connection: the polls in their order and the limits (see :data:`LIMITS`)."""
    return {"type": "welcome", "version": VERSION, "current": current, "polls": poll_list, "limits": dict(limits)}


def hello_reply(voter: str, admin: bool, choices: Dict[str, Choice], ref: Ref = None) -> Dict[str, Any]:
    return _with_ref({"type": "hello", "voter": voter, "admin": admin, "choices": choices}, ref)


def results_key(poll_id: str) -> str:
    """The ``Message.key`` of a poll's results (and the ``seal`` of its full state)."""
    return f"results:{poll_id}"


def results(poll_id: str, fields: Dict[str, Any], seq: int) -> Dict[str, Any]:
    """``fields`` are the poll's ``counts``, ``total``, ``voters`` (and ``mean``)."""
    return {"type": "results", "poll": poll_id, **fields, "seq": seq}


def voted(poll_id: str, kind: str, choice: Choice, ref: Ref = None) -> Dict[str, Any]:
    """The reply to a vote: the choice as counted, in the field the poll's kind votes with."""
    return _with_ref({"type": "voted", "poll": poll_id, CHOICE_FIELDS[kind]: choice}, ref)


def ok(poll_id: Optional[str], ref: Ref = None) -> Dict[str, Any]:
    return _with_ref({"type": "ok", "poll": poll_id}, ref)


def poll(poll_json: Dict[str, Any]) -> Dict[str, Any]:
    return {"type": "poll", "poll": poll_json}


def order(poll_ids: List[str]) -> Dict[str, Any]:
    return {"type": "order", "polls": poll_ids}


def current(poll_id: Optional[str]) -> Dict[str, Any]:
    return {"type": "current", "poll": poll_id}


def deleted(poll_id: str) -> Dict[str, Any]:
    return {"type": "deleted", "poll": poll_id}


def ok_question(question_id: Optional[str], ref: Ref = None) -> Dict[str, Any]:
    return _with_ref({"type": "ok", "question": question_id}, ref)


def asked(question_json: Dict[str, Any], ref: Ref = None) -> Dict[str, Any]:
    return _with_ref({"type": "asked", "question": question_json}, ref)


def upvoted(question_id: str, is_upvoted: bool, upvotes: int, ref: Ref = None) -> Dict[str, Any]:
    return _with_ref({"type": "upvoted", "question": question_id, "upvoted": is_upvoted, "upvotes": upvotes}, ref)


def question(question_json: Dict[str, Any]) -> Dict[str, Any]:
    return {"type": "question", "question": question_json}


def questions(question_list: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Several questions that changed in one batch, for everyone: one frame instead of one per question."""
    return {"type": "questions", "questions": question_list}


def question_removed(question_id: str) -> Dict[str, Any]:
    return {"type": "question_removed", "question": question_id}


def question_key(question_id: str) -> str:
    """The ``Message.key`` of a question's changes: a slow client keeps only the newest."""
    return f"question:{question_id}"


def qa_settings(settings: Dict[str, Any]) -> Dict[str, Any]:
    return {"type": "qa", **settings}


def nickname(name: str, renamed: bool = False, ref: Ref = None) -> Dict[str, Any]:
    """The reply to a ``nickname`` (and, with ``renamed``, what a participant a presenter renamed gets)."""
    data: Dict[str, Any] = {"type": "nickname", "nickname": name}
    if renamed:
        data["renamed"] = True
    return _with_ref(data, ref)


def leaderboard(poll_id: Optional[str], board: Dict[str, Any]) -> Dict[str, Any]:
    """The top places after a reveal (``poll_id``: the question just revealed), or after a reset or rename."""
    return {"type": "leaderboard", "poll": poll_id, **board}


def presence(participants: int) -> Dict[str, Any]:
    return {"type": "presence", "participants": participants}


def error(exc: PollhubError, ref: Ref = None) -> Dict[str, Any]:
    return _with_ref({"type": "error", "code": exc.code, "message": exc.message, **exc.details}, ref)
