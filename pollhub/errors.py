"""The exceptions pollhub raises, one per error code of the wire protocol.

The hub raises them from its Python API; the server sends them to a client as
``{"type": "error", "code": ..., "message": ...}``; :class:`~pollhub.PollClient`
raises them again from such a message. ``code`` is the same everywhere.
"""

from __future__ import annotations

from typing import Any, Dict, Type, Union


class PollhubError(Exception):
    """Base class: something pollhub refused, with a message for a person."""

    code = "error"
    ref: Union[str, int, None] = None  # the "ref" of the message that caused it, when known

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        #: More fields for the ``error`` message (a taken nickname's ``suggestion``).
        self.details: Dict[str, Any] = details


class BadMessage(PollhubError):
    """A message that is not one pollhub understands (wrong type or fields)."""

    code = "bad_message"


class BadJSON(BadMessage):
    """A text message that is neither JSON nor an option of the current poll."""

    code = "bad_json"


class UnknownPoll(PollhubError):
    """No poll has that id (or there is no current poll)."""

    code = "unknown_poll"


class UnknownOption(PollhubError):
    """The poll has no option with that id or label."""

    code = "unknown_option"


class PollClosed(PollhubError):
    """The poll is closed for voting."""

    code = "poll_closed"


class InvalidVote(PollhubError):
    """A vote the poll's kind cannot take: wrong field, too many options, a value out of range, ..."""

    code = "invalid_vote"


class VoteLocked(PollhubError):
    """The poll's votes are locked and this voter has already voted."""

    code = "vote_locked"


class Forbidden(PollhubError):
    """An admin message without a ``hello`` carrying the admin token, or a wrong token."""

    code = "forbidden"


class RateLimited(PollhubError):
    """Over one of the server's limits: votes per voter or per address, new voter ids per address, admin token tries."""

    code = "rate_limited"


class TooManyPolls(PollhubError):
    """A new poll when the event already has ``polls.MAX_POLLS`` polls: delete one first."""

    code = "too_many_polls"


class BadQuestion(PollhubError):
    """A question that is empty or too long, or a name that is too long."""

    code = "bad_question"


class DuplicateQuestion(PollhubError):
    """The same question from the same voter within a minute."""

    code = "duplicate_question"


class QAClosed(PollhubError):
    """A question while the presenter has closed Q&A for new questions."""

    code = "qa_closed"


class UnknownQuestion(PollhubError):
    """No question has that id (or none this voter may see)."""

    code = "unknown_question"


class OwnQuestion(PollhubError):
    """An upvote of the voter's own question."""

    code = "own_question"


class QuestionAnswered(PollhubError):
    """An upvote of a question that was answered or dismissed."""

    code = "question_answered"


class TooManyQuestions(PollhubError):
    """More questions from one voter in a minute than the limit (``qa.QUESTIONS_PER_WINDOW``)."""

    code = "too_many_questions"


class NicknameRequired(PollhubError):
    """An answer to a quiz question from a voter without a nickname (see ``nickname``)."""

    code = "nickname_required"


class BadNickname(PollhubError):
    """A nickname that is not 2 to 20 characters of text."""

    code = "bad_nickname"


class NicknameTaken(PollhubError):
    """A nickname another participant has (ignoring case); ``details["suggestion"]`` is a free one."""

    code = "nickname_taken"


class InternalError(PollhubError):
    """A bug in the server: a reply it could not build or encode (the server logs it)."""

    code = "internal"


class Unavailable(PollhubError):
    """The hub is not running (not started yet, or stopped)."""

    code = "unavailable"


ERRORS: Dict[str, Type[PollhubError]] = {
    cls.code: cls
    for cls in (
        BadMessage, BadJSON, UnknownPoll, UnknownOption, PollClosed, InvalidVote, VoteLocked, Forbidden, RateLimited,
        TooManyPolls, BadQuestion, DuplicateQuestion, QAClosed, UnknownQuestion, OwnQuestion, QuestionAnswered,
        TooManyQuestions, NicknameRequired, BadNickname, NicknameTaken, InternalError, Unavailable,
    )
}


def error_from_code(code: str, message: str, **details: Any) -> PollhubError:
    """The exception for an error ``code`` received from a server, with the error message's other fields."""
    return ERRORS.get(code, PollhubError)(message, **details)


def error_from_reply(reply: Dict[str, Any]) -> PollhubError:
    """The exception an ``error`` message stands for (its ``suggestion`` and such in ``details``)."""
    details = {k: v for k, v in reply.items() if k not in ("type", "code", "message", "ref")}
    return error_from_code(str(reply["code"]), str(reply["message"]), **details)
