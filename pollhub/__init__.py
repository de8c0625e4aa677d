"""pollhub: a self-hosted live-polling server.

* :class:`Hub`: the polls and their counts, owned by one thread; usable with no network.
* :class:`PollServer`: serves a hub over WebSocket (a read and a write thread per client).
* :class:`PollClient`: drives a server from a script.
"""

__version__ = "0.1.0"

from .client import ConnectionClosed, PollClient
from .errors import (
    BadJSON,
    BadMessage,
    BadQuestion,
    DuplicateQuestion,
    Forbidden,
    InvalidVote,
    OwnQuestion,
    PollClosed,
    PollhubError,
    QAClosed,
    QuestionAnswered,
    RateLimited,
    TooManyPolls,
    TooManyQuestions,
    Unavailable,
    UnknownOption,
    UnknownPoll,
    UnknownQuestion,
    VoteLocked,
)
from .hub import Hub, Subscription
from .polls import COUNTER, KINDS, MULTIPLE, OPEN, SCALE, SINGLE, WORDS, Option, Poll, Settings
from .server import PollServer

__all__ = [
    "Hub",
    "PollServer",
    "PollClient",
    "Subscription",
    "Poll",
    "Option",
    "Settings",
    "SINGLE",
    "MULTIPLE",
    "COUNTER",
    "SCALE",
    "WORDS",
    "OPEN",
    "KINDS",
    "PollhubError",
    "BadMessage",
    "BadJSON",
    "UnknownPoll",
    "UnknownOption",
    "PollClosed",
    "InvalidVote",
    "VoteLocked",
    "Forbidden",
    "RateLimited",
    "TooManyPolls",
    "BadQuestion",
    "DuplicateQuestion",
    "QAClosed",
    "UnknownQuestion",
    "OwnQuestion",
    "QuestionAnswered",
    "TooManyQuestions",
    "Unavailable",
    "ConnectionClosed",
]
