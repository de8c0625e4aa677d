"""PollClient: drive a pollhub server from a script, on ``websocket-client``.

::

    with PollClient("ws://127.0.0.1:8765/ws", voter="ann") as client:
        client.vote("pizza")                        # returns once the server counted it
        client.wait_for(lambda c: c.results()["pizza"] >= 10, timeout=30)
        question = client.ask("Is there dessert?")  # audience Q&A
        client.upvote("q1")
        client.set_nickname("Ann")                  # a quiz: answer, then wait for the reveal
        client.vote("paris", poll="capital")
        score = client.wait_for(lambda c: c.score("capital"), timeout=60)

A background thread (``pollhub-client``) reads every message: it keeps the
latest state of every poll and of the Q&A (its settings and every question
this client may see), answers pings, completes the request each reply belongs
to (matched by ``ref``) and queues the message for :meth:`PollClient.updates`.
For quizzes it also keeps this voter's nickname, its last ``score`` message
per question and the latest leaderboard.
"""

from __future__ import annotations

import itertools
import json
import queue
import ssl
import threading
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Set, Tuple, cast
from urllib.parse import urlsplit, urlunsplit

import websocket

from .errors import PollhubError, error_from_reply
from .polls import CHOICE_FIELDS, QUIZ, SINGLE, Choice, Poll, poll_fields
from .protocol import VOTE_FIELDS

TIMEOUT = 10.0  # seconds to connect, and to wait for each reply
RESULT_FIELDS = frozenset(("counts", "total", "voters", "mean", "answers", "positions"))  # what a results message updates
QA_SETTINGS = ("moderation", "open", "highlight", "stage")  # the Q&A settings, in welcome.qa and a qa message


class ConnectionClosed(PollhubError):
    """The connection to the server is closed."""

    code = "closed"


def normalize_url(url: str) -> str:
    """Accept ``host:port``, ``http://host:port`` or a full ``ws://`` URL; return the ``ws`` URL.

    A URL without a path gets ``/ws``.
    """
    if "://" not in url:
        url = "ws://" + url
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = parts.path if parts.path not in ("", "/") else "/ws"
    return urlunsplit((scheme, parts.netloc, path, parts.query, ""))


class _Pending:
    def __init__(self, kind: str) -> None:
        self.kind = kind  # the request's type
        self.done = threading.Event()
        self.reply: Optional[Dict[str, Any]] = None


class PollClient:
    """A connection to a pollhub server; connects in the constructor.

    ``voter`` names the voter (so reconnecting does not vote twice);
    ``token`` is the admin token, needed for the admin methods;
    ``ssl_context`` is for ``wss://`` servers (default: the system's trusted
    certificates). Every method
    is thread-safe. Methods that wait raise ``TimeoutError`` after ``timeout``
    seconds, the server's refusals as the matching
    :class:`~pollhub.errors.PollhubError`, and :class:`ConnectionClosed`
    once the connection is gone.
    """

    def __init__(
        self,
        url: str,
        voter: Optional[str] = None,
        token: Optional[str] = None,
        timeout: float = TIMEOUT,
        ssl_context: Optional[ssl.SSLContext] = None,
    ) -> None:
        self.url = normalize_url(url)
        self.timeout = timeout
        self._refs = itertools.count(1)
        self._state = threading.Condition()
        self._pending: Dict[int, _Pending] = {}
        self._polls: Dict[str, Dict[str, Any]] = {}
        self._current: Optional[str] = None
        self._seqs: Dict[str, int] = {}  # poll id -> the seq of the counts held
        self._qa: Dict[str, Any] = {}  # the Q&A settings (QA_SETTINGS)
        self._questions: Dict[str, Dict[str, Any]] = {}  # question id -> question, in asking order, without the flags
        self._mine: Set[str] = set()  # the questions this voter asked
        self._upvoted: Set[str] = set()  # the questions this voter upvotes
        self._closed = False
        self._updates: "queue.Queue[Optional[Dict[str, Any]]]" = queue.Queue()
        self._welcomed = threading.Event()
        self._nickname: Optional[str] = None  # this voter's nickname, as the server last said
        self._scores: Dict[str, Dict[str, Any]] = {}  # quiz poll id -> the last score message for it
        self._last_score: Optional[Dict[str, Any]] = None
        self._leaderboard: Dict[str, Any] = {"top": [], "participants": 0}  # the latest top 10 and how many rank
        self.voter: Optional[str] = voter
        self.admin = False
        sslopt = {"context": ssl_context} if ssl_context is not None else None
        self._ws = websocket.create_connection(self.url, timeout=timeout, enable_multithread=True, sslopt=sslopt)
        self._ws.settimeout(None)  # the reader blocks until a message or the close
        self._reader = threading.Thread(target=self._read_loop, name="pollhub-client", daemon=True)
        self._reader.start()
        try:
            if not self._welcomed.wait(timeout):
                raise TimeoutError(f"no welcome from {self.url} within {timeout} seconds")
            if voter is not None or token is not None:
                reply = self._request({"type": "hello", "voter": voter, "token": token})
                self.voter, self.admin = reply["voter"], reply["admin"]
                with self._state:
                    self._nickname = reply.get("nickname")
        except BaseException:
            self.close()
            raise

    # Voting and state ----------------------------------------------------------------

    def vote(self, choice: Choice, poll: Optional[str] = None) -> Choice:
        """Vote in a poll (the current one by default); returns the choice as the server counted it.

        ``choice`` is an option's id or label, a list of them (``multiple``
        polls), a whole number (``scale``) or one or more answers (``words``).
        Raises the server's error as a :class:`~pollhub.PollhubError`.
        """
        with self._state:
            wanted = self._current if poll is None else poll
            data = None if wanted is None else self._polls.get(wanted)
        if data is not None:
            field = CHOICE_FIELDS[data["kind"]]
            if field == "value" and isinstance(choice, str):  # "4" from a command line
                field = "option"  # the server reads a scale's value from it, or says what is wrong
            elif data["kind"] == QUIZ:  # one option, or a list when several are correct
                field = "option" if isinstance(choice, str) else "options"
            elif field == "options" and isinstance(choice, str):  # one option of a multiple or ranking poll
                choice = [choice]
        else:  # a poll this client has not heard of: let the server say what is wrong
            field = "value" if isinstance(choice, int) else "option" if isinstance(choice, str) else "options"
        reply = self._request({"type": "vote", field: choice, "poll": poll})
        return cast(Choice, next(reply[name] for name in VOTE_FIELDS if name in reply))

    def results(self, poll: Optional[str] = None) -> Dict[str, int]:
        """The latest known counts of a poll (the current one by default); {} while they are not shown to this client."""
        with self._state:
            return dict(self._poll_data(poll).get("counts", {}))

    def poll(self, poll: Optional[str] = None) -> Poll:
        """The latest known state of a poll (the current one by default)."""
        with self._state:
            return Poll.from_json(self._poll_data(poll))

    def polls(self) -> List[Poll]:
        """The latest known state of every poll."""
        with self._state:
            return [Poll.from_json(data) for data in self._polls.values()]

    @property
    def current(self) -> Optional[str]:
        """The id of the current poll, or None."""
        with self._state:
            return self._current

    def wait_for(self, predicate: Callable[["PollClient"], Any], timeout: Optional[float] = None) -> Any:
        """Wait until ``predicate(client)`` is true (checked after every update); return its value."""
        timeout = self.timeout if timeout is None else timeout
        with self._state:  # wait_for checks the predicate first, and returns its last value
            value = self._state.wait_for(lambda: self._check(predicate), timeout)
        if not value:
            raise TimeoutError(f"condition not met within {timeout} seconds")
        return value

    def updates(self, timeout: Optional[float] = None) -> Iterator[Dict[str, Any]]:
        """Every message from the server as a dict, starting with ``welcome``.

        Ends when the connection closes, or after ``timeout`` seconds with no message.
        """
        while True:
            try:
                item = self._updates.get(timeout=timeout)
            except queue.Empty:
                return
            if item is None:
                self._updates.put(None)
                return
            yield item

    # Quizzes ---------------------------------------------------------------------------

    @property
    def nickname(self) -> Optional[str]:
        """This voter's nickname as the server last told it (a presenter's rename included), or None."""
        with self._state:
            return self._nickname

    def set_nickname(self, nickname: str) -> str:
        """Take a nickname for this voter (needed to answer a quiz); returns it as the server keeps it.

        Raises :class:`~pollhub.errors.BadNickname` (fewer than 2 or more
        than 20 characters once normalised) or ``NicknameTaken`` (someone
        else has it, ignoring case: its ``details["suggestion"]`` is free).
        """
        reply = self._request({"type": "nickname", "nickname": nickname})
        return str(reply["nickname"])

    def score(self, poll: Optional[str] = None) -> Optional[Dict[str, Any]]:
        """The last ``score`` message (of quiz question ``poll`` if given), or None before a reveal.

        A dict with ``poll``, ``points``, ``correct``, ``answered``, ``total``
        (this voter's score), ``rank`` and ``of``. Only a voter with a
        nickname gets one.
        """
        with self._state:
            found = self._last_score if poll is None else self._scores.get(poll)
            return None if found is None else dict(found)

    def leaderboard(self) -> List[Dict[str, Any]]:
        """The top 10 as the server last sent them (welcome or reveal): dicts of ``nickname``, ``score``, ``rank``, ``moved``."""
        with self._state:
            return [dict(entry) for entry in self._leaderboard["top"]]

    def participants(self) -> int:
        """How many participants are on the leaderboard, as the server last said."""
        with self._state:
            return int(self._leaderboard["participants"])

    # Audience Q&A -----------------------------------------------------------------------

    def ask(self, text: str, name: Optional[str] = None) -> Dict[str, Any]:
        """Ask a question; returns it as the server took it (``id``, ``state``, ...; ``mine`` is True).

        ``name`` signs it (None: anonymous). With moderation on its ``state``
        is ``"waiting"`` until a presenter approves it. Raises
        :class:`~pollhub.errors.BadQuestion` (empty, invisible or too long),
        ``DuplicateQuestion``, ``QAClosed`` or ``TooManyQuestions``.
        """
        reply = self._request({"type": "ask", "text": text, "name": name})
        return dict(reply["question"])

    def upvote(self, question: str) -> int:
        """Upvote a question (again: still one upvote); returns its upvotes as the server counted them.

        Raises ``UnknownQuestion``, ``OwnQuestion`` (this voter asked it) or
        ``QuestionAnswered`` (answered or dismissed).
        """
        return self._vote_question("upvote", question)

    def unvote(self, question: str) -> int:
        """Take an upvote back (none given: nothing changes); returns the question's upvotes.

        Raises ``UnknownQuestion`` for a question this client may not see.
        """
        return self._vote_question("unvote", question)

    def questions(self) -> List[Dict[str, Any]]:
        """Every question this client may see, in asking order, as dicts (copies).

        Each has the server's fields (``id``, ``text``, ``name``, ``upvotes``,
        ``state``, ``asked_at``, ``answered_at``) and this voter's ``upvoted``
        and ``mine``. A participant sees published and answered questions and
        their own waiting ones; a presenter (after the hello with the token)
        sees every question, dismissed ones included.
        """
        with self._state:
            return [self._flagged(q) for q in self._questions.values()]

    def question(self, question: str) -> Dict[str, Any]:
        """One question as :meth:`questions` gives it; ``KeyError`` if this client does not see it."""
        with self._state:
            if question not in self._questions:
                raise KeyError(f"no question {question!r}")
            return self._flagged(self._questions[question])

    def qa_state(self) -> Dict[str, Any]:
        """The Q&A settings: ``moderation`` and ``open`` (bools), ``highlight`` (an id or None), ``stage`` (``"poll"`` or ``"qa"``)."""
        with self._state:
            return dict(self._qa)

    # Admin (needs the token) -----------------------------------------------------------

    def create_poll(
        self,
        question: str,
        options: Sequence[str] = (),
        kind: str = SINGLE,
        *,
        max_choices: Optional[int] = None,
        scale: Optional[Tuple[int, int]] = None,
        max_answers: Optional[int] = None,
        results: Optional[str] = None,
        changes: Optional[str] = None,
        correct: Optional[Sequence[str]] = None,
        time_limit: Optional[int] = None,
        max_ranked: Optional[int] = None,
    ) -> str:
        """Create a poll, with the settings of :meth:`pollhub.Hub.create_poll`; returns its id.

        A quiz question (``kind="quiz"``) takes ``correct`` (the ids or
        labels of its correct options) and ``time_limit`` (seconds, 5 to 300;
        default 20); it is created closed, and :meth:`open_poll` starts its
        timer. ``results`` and ``changes`` left out take the kind's defaults.
        """
        fields = poll_fields(kind, max_choices, scale, max_answers, results, changes, correct, time_limit, max_ranked)
        reply = self._request({"type": "create_poll", "question": question, "options": list(options), **fields})
        return str(reply["poll"])

    def open_poll(self, poll: str, close_after: Optional[float] = None) -> None:
        """Open a poll; with ``close_after``, the server closes it after that many seconds."""
        self._request({"type": "open_poll", "poll": poll, "close_after": close_after})

    def update_poll(self, poll: str, results: Optional[str] = None, changes: Optional[str] = None) -> None:
        """Change who sees a poll's results and whether votes can change."""
        self._request({"type": "update_poll", "poll": poll, "results": results, "changes": changes})

    def reveal_poll(self, poll: str) -> None:
        """Show a poll's results to every participant now."""
        self._request({"type": "reveal_poll", "poll": poll})

    def hide_answer(self, poll: str, text: str) -> None:
        """Leave an answer of a words poll out of its results."""
        self._request({"type": "hide_answer", "poll": poll, "text": text})

    def order_polls(self, polls: Sequence[str]) -> None:
        """Put every poll in a new order."""
        self._request({"type": "order_polls", "polls": list(polls)})

    def next_poll(self) -> Optional[str]:
        """Make the next poll current; returns the current poll's id."""
        return cast(Optional[str], self._request({"type": "next_poll"})["poll"])

    def previous_poll(self) -> Optional[str]:
        """Make the previous poll current; returns the current poll's id."""
        return cast(Optional[str], self._request({"type": "previous_poll"})["poll"])

    def close_poll(self, poll: str) -> None:
        self._request({"type": "close_poll", "poll": poll})

    def reset_poll(self, poll: str) -> None:
        self._request({"type": "reset_poll", "poll": poll})

    def delete_poll(self, poll: str) -> None:
        self._request({"type": "delete_poll", "poll": poll})

    def set_current(self, poll: str) -> None:
        self._request({"type": "set_current", "poll": poll})

    def reveal_answer(self, poll: str) -> None:
        """Show a closed quiz question's correct options; every participant gets its score, everyone the leaderboard."""
        self._request({"type": "reveal_answer", "poll": poll})

    def reset_quiz(self) -> None:
        """Every quiz question as new (answers gone, closed, not revealed), the leaderboard empty; nicknames stay."""
        self._request({"type": "reset_quiz"})

    def rename_nickname(self, old: str, new: str) -> str:
        """Rename the participant whose nickname is ``old`` (ignoring case); returns the new one as kept. They are told.

        Raises ``BadNickname`` (nobody has ``old``, or ``new`` breaks the
        rules of :meth:`set_nickname`) or ``NicknameTaken``.
        """
        return str(self._request({"type": "rename_nickname", "nickname": old, "to": new})["nickname"])

    def approve_question(self, question: str) -> None:
        """Publish a waiting question (moderation on)."""
        self._request({"type": "approve_question", "question": question})

    def dismiss_question(self, question: str) -> None:
        """Take a question away from participants (presenters still see it, as dismissed)."""
        self._request({"type": "dismiss_question", "question": question})

    def answer_question(self, question: str) -> None:
        """Mark a question answered (no more upvotes; it stays in the list)."""
        self._request({"type": "answer_question", "question": question})

    def highlight_question(self, question: Optional[str]) -> None:
        """Highlight a question on the projector (a waiting one is approved first); None clears the highlight."""
        self._request({"type": "highlight_question", "question": question}, nulls=("question",))

    def qa_settings(
        self, moderation: Optional[bool] = None, open: Optional[bool] = None, stage: Optional[str] = None
    ) -> Dict[str, Any]:
        """Change the Q&A settings given (None: left as is); returns them all, as :meth:`qa_state`.

        ``moderation`` True holds new questions for a presenter's approval;
        ``open`` False takes no new questions (upvotes go on); ``stage`` is
        what the projector shows, ``"poll"`` or ``"qa"``. The server sends
        the new settings before its reply, so they are already held here.
        Raises ``BadMessage`` when none is given or one is not valid.
        """
        self._request({"type": "qa_settings", "moderation": moderation, "open": open, "stage": stage})
        return self.qa_state()

    # Lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection (code 1000) and end the reader thread."""
        with self._state:
            already = self._closed
            self._closed = True
        if not already:
            try:
                self._ws.send_close()
            except Exception:  # already gone
                pass
        self._reader.join(self.timeout)
        self._ws.shutdown()  # type: ignore[no-untyped-call]  # websocket-client's shutdown() has no annotations
        self._reader.join(self.timeout)

    @property
    def closed(self) -> bool:
        with self._state:
            return self._closed

    def __enter__(self) -> "PollClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Internals -----------------------------------------------------------------------

    def _request(self, message: Dict[str, Any], nulls: Sequence[str] = ()) -> Dict[str, Any]:
        """Send ``message`` (fields that are None left out, but for ``nulls``) and wait for its reply."""
        ref = next(self._refs)
        pending = _Pending(str(message.get("type")))
        with self._state:
            if self._closed:
                raise ConnectionClosed("the connection is closed")
            self._pending[ref] = pending
        message = {k: v for k, v in message.items() if v is not None or k in nulls}
        message["ref"] = ref
        try:
            self._ws.send(json.dumps(message))
        except (websocket.WebSocketException, OSError) as exc:
            with self._state:
                self._pending.pop(ref, None)
            raise ConnectionClosed(f"the connection is closed: {exc}") from None
        if not pending.done.wait(self.timeout):
            with self._state:
                self._pending.pop(ref, None)
            raise TimeoutError(f"no reply from the server within {self.timeout} seconds")
        reply = pending.reply
        if reply is None:
            raise ConnectionClosed("the connection closed before the server replied")
        if reply["type"] == "error":
            raise error_from_reply(reply)  # with its other fields in details: nickname_taken's suggestion
        return reply

    def _vote_question(self, kind: str, question: str) -> int:
        reply = self._request({"type": kind, "question": question})
        return int(reply["upvotes"])

    def _poll_data(self, poll: Optional[str]) -> Dict[str, Any]:
        poll_id = self._current if poll is None else poll
        if poll_id is None or poll_id not in self._polls:
            raise KeyError(f"no poll {poll_id!r}" if poll_id else "there is no current poll")
        return self._polls[poll_id]

    def _check(self, predicate: Callable[["PollClient"], Any]) -> Any:
        # Called with self._state held; it is an RLock, so the predicate may call results() etc.
        try:
            return predicate(self)
        except KeyError:
            return False

    def _read_loop(self) -> None:
        try:
            while True:
                opcode, data = self._ws.recv_data()
                if opcode != websocket.ABNF.OPCODE_TEXT:
                    if opcode == websocket.ABNF.OPCODE_CLOSE:
                        return
                    continue
                message = json.loads(data.decode("utf-8"))
                self._receive(message)
                self._updates.put(message)
        except (websocket.WebSocketException, OSError, ValueError):
            return
        finally:
            with self._state:
                self._closed = True
                pending, self._pending = self._pending, {}
                self._state.notify_all()
            for waiting in pending.values():
                waiting.done.set()
            self._welcomed.set()
            self._updates.put(None)

    def _welcome(self, message: Dict[str, Any]) -> None:
        """Take a welcome's polls; counts held from a later ``seq`` stay (a reconnect to a node a little behind)."""
        seq = message.get("seq", 0)
        polls = {p["id"]: dict(p) for p in message["polls"]}  # updates leave the message alone
        for poll_id, poll in polls.items():
            old = self._polls.get(poll_id)
            if old is not None and old.get("visible") and poll.get("visible") and self._seqs.get(poll_id, 0) > seq:
                poll.update((k, v) for k, v in old.items() if k in RESULT_FIELDS)
            else:
                self._seqs[poll_id] = seq
        self._seqs = {poll_id: self._seqs[poll_id] for poll_id in polls}
        self._polls = polls
        self._current = message["current"]
        quiz = message.get("quiz")
        if quiz is not None:
            self._leaderboard = {"top": list(quiz.get("top", [])), "participants": quiz.get("participants", 0)}
        qa = message.get("qa") or {}
        self._qa = {name: qa.get(name) for name in QA_SETTINGS}
        questions = qa.get("questions", [])
        self._questions = {q["id"]: dict(q) for q in questions}
        self._mine = {q["id"] for q in questions if q.get("mine")}
        self._upvoted = {q["id"] for q in questions if q.get("upvoted")}

    def _quiz_message(self, message: Dict[str, Any], request: Optional[_Pending]) -> None:
        """Take a ``nickname`` (the reply to this voter's own, or a presenter's rename of it), ``score`` or ``leaderboard`` message.

        ``request`` is the request the message replies to, if any: the reply
        to a presenter's ``rename_nickname`` names somebody else.
        """
        kind = message["type"]
        if kind == "nickname":
            if request is None or request.kind == "nickname":
                self._nickname = message["nickname"]
        elif kind == "score":
            self._scores[message["poll"]] = self._last_score = dict(message)
        elif "top" in message:  # a broadcast leaderboard
            self._leaderboard = {"top": list(message["top"]), "participants": message.get("participants", 0)}

    def _flagged(self, question: Dict[str, Any]) -> Dict[str, Any]:
        """A copy of a question held, with this voter's ``upvoted`` and ``mine``."""
        return dict(question, upvoted=question["id"] in self._upvoted, mine=question["id"] in self._mine)

    def _question_reply(self, message: Dict[str, Any]) -> None:
        """What a reply tells of this voter's questions (their counts come with the ``question`` broadcasts).

        ``hello``: which ones the voter named in it asked and upvotes (the
        welcome's flags were an anonymous newcomer's); ``asked``: the new
        question is this voter's; ``upvoted``: whether this voter upvotes it.
        """
        kind = message["type"]
        if kind == "hello" and "qa" in message:
            self._mine, self._upvoted = set(message["qa"]["mine"]), set(message["qa"]["upvoted"])
        elif kind == "asked":
            question = {k: v for k, v in message["question"].items() if k not in ("mine", "upvoted")}
            self._questions.setdefault(question["id"], question)
            self._mine.add(question["id"])
        elif kind == "upvoted" and message["upvoted"]:
            self._upvoted.add(message["question"])
        elif kind == "upvoted":
            self._upvoted.discard(message["question"])

    def _receive(self, message: Dict[str, Any]) -> None:
        kind = message.get("type")
        with self._state:
            ref = message.get("ref")
            waiting = self._pending.pop(ref, None) if ref is not None else None
            if kind == "welcome":
                self._welcome(message)
            elif kind == "results":
                poll = self._polls.get(message["poll"])
                held = self._seqs.get(message["poll"], 0)
                if poll is not None and (message["seq"] > held or not poll.get("visible")):
                    poll.update((k, v) for k, v in message.items() if k in RESULT_FIELDS)
                    poll["visible"] = True
                    self._seqs[message["poll"]] = max(held, message["seq"])
            elif kind == "poll":
                self._polls[message["poll"]["id"]] = dict(message["poll"])
            elif kind == "current":
                self._current = message["poll"]
            elif kind == "order":
                self._polls = {poll_id: self._polls[poll_id] for poll_id in message["polls"] if poll_id in self._polls}
            elif kind == "deleted":
                self._polls.pop(message["poll"], None)
            elif kind in ("nickname", "score", "leaderboard"):
                self._quiz_message(message, waiting)
            elif kind == "question":
                self._questions[message["question"]["id"]] = dict(message["question"])
            elif kind == "questions":  # several that changed in one batch
                self._questions.update((q["id"], dict(q)) for q in message["questions"])
            elif kind == "question_removed":
                self._questions.pop(message["question"], None)
            elif kind == "qa":
                self._qa.update((name, message[name]) for name in QA_SETTINGS if name in message)
            elif kind in ("hello", "asked", "upvoted"):
                self._question_reply(message)
            self._state.notify_all()
        if waiting is not None:
            waiting.reply = message
            waiting.done.set()
        if kind == "welcome":
            self._welcomed.set()
