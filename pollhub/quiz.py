"""Quizzes beyond one question: nicknames and the leaderboard. Pure, no I/O.

A quiz question is a poll of kind ``quiz`` (:class:`pollhub.kinds.Quiz`
scores each answer when it is applied). What spans the questions lives here:
each participant's nickname, and the leaderboard, the total of the points
of every question whose answer a presenter revealed, in reveal order. The
:class:`~pollhub.book.PollBook` keeps one :class:`Players` (``book.quiz``).

Ranks: the highest total is first; equal totals share a rank (``1, 2, 2,
4``) and are listed by nickname, ignoring case. Every participant with a
nickname is on the leaderboard, with 0 until they score.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from .errors import BadNickname, NicknameTaken
from .kinds import QUIZ, answer_key, normalize_answer, quiz_answer
from .polls import PollState
from .text import has_visible, is_text

NICKNAME_LENGTH = (2, 20)  # characters of a nickname, once normalised like a words answer
LEADERBOARD_SHOWN = 10  # places a leaderboard message carries
PODIUM = 3


class Standing(NamedTuple):
    """One participant's place: ``rank`` (shared by equal totals) and ``total`` points."""

    rank: int
    nickname: str
    total: int
    voter: str


def check_nickname(nickname: Any) -> str:
    """A nickname, normalised like a words answer; raises :class:`BadNickname`."""
    low, high = NICKNAME_LENGTH
    if not isinstance(nickname, str) or not is_text(nickname, multiline=True):
        raise BadNickname("a nickname is text, without control characters or lone surrogates")
    normal = normalize_answer(nickname)
    if not has_visible(normal) or not low <= len(normal) <= high:
        raise BadNickname(f"a nickname is {low} to {high} characters")
    return normal


class Players:
    """Nicknames, unique ignoring case, and the leaderboard they make. Not thread-safe: the hub thread drives it."""

    def __init__(self, nicknames: Optional[Mapping[str, str]] = None) -> None:
        self.nicknames: Dict[str, str] = dict(nicknames or {})  # voter -> nickname
        self._owners: Dict[str, str] = {answer_key(name): voter for voter, name in self.nicknames.items()}
        # The standings and the leaderboard as last computed, until something changes them
        # (forget_standings): every hello reply carries its voter's rank and every welcome the
        # leaderboard, and a hall reconnecting must not sort everyone for each of them.
        self._standings: Optional[List[Standing]] = None
        self._places: Dict[str, Standing] = {}  # voter -> its place in _standings
        self._board: Optional[Dict[str, Any]] = None

    def forget_standings(self) -> None:
        """Say the standings changed (a reveal, a reset, a nickname): the next call computes them again."""
        self._standings = self._board = None

    def owner(self, nickname: str) -> Optional[str]:
        """The voter whose nickname is ``nickname`` (ignoring case), or None."""
        return self._owners.get(answer_key(nickname))

    def set(self, voter: str, nickname: str) -> Tuple[str, bool]:
        """Give ``voter`` a nickname; returns ``(nickname, changed)``.

        Raises :class:`BadNickname`, or :class:`NicknameTaken` (with a free
        ``suggestion``) when another voter has it, ignoring case.
        """
        nickname = check_nickname(nickname)
        key = answer_key(nickname)
        holder = self._owners.get(key)
        if holder is not None and holder != voter:
            raise NicknameTaken(f"{nickname!r} is taken: pick another", suggestion=self.suggest(nickname))
        old = self.nicknames.get(voter)
        if old == nickname:
            return nickname, False
        if old is not None:
            del self._owners[answer_key(old)]
        self.nicknames[voter] = nickname
        self._owners[key] = voter
        self.forget_standings()
        return nickname, True

    def suggest(self, nickname: str) -> str:
        """A free nickname like ``nickname``: itself, else with 2, 3, ... appended (shortened to fit)."""
        base = normalize_answer(nickname)[: NICKNAME_LENGTH[1]] or "Player"
        number = 1
        candidate = base
        while answer_key(candidate) in self._owners or len(candidate) < NICKNAME_LENGTH[0]:
            number += 1
            suffix = f" {number}"
            candidate = base[: NICKNAME_LENGTH[1] - len(suffix)].rstrip() + suffix
        return candidate

    # The leaderboard ---------------------------------------------------------------

    def standings(self, polls: Iterable[PollState], before: Optional[int] = None) -> List[Standing]:
        """Everyone with a nickname, ranked by their points in revealed quiz questions.

        ``before``: count only the questions revealed before that reveal
        number (the leaderboard as it was then). Without it, the result is
        kept until :meth:`forget_standings`.
        """
        if before is None and self._standings is not None:
            return self._standings
        totals = dict.fromkeys(self.nicknames, 0)
        for poll in polls:
            if poll.kind != QUIZ or not poll.answer_revealed:
                continue
            if before is not None and poll.answer_revealed >= before:
                continue
            for voter, ballot in poll.ballots.items():
                if voter in totals:
                    totals[voter] += quiz_answer(ballot)[1]
        nicknames = self.nicknames
        order = sorted(totals, key=lambda voter: (-totals[voter], nicknames[voter].casefold(), nicknames[voter]))
        ranked: List[Standing] = []
        for place, voter in enumerate(order, 1):
            rank = ranked[-1].rank if ranked and ranked[-1].total == totals[voter] else place
            ranked.append(Standing(rank, nicknames[voter], totals[voter], voter))
        if before is None:
            self._standings = ranked
            self._places = {standing.voter: standing for standing in ranked}
        return ranked

    def leaderboard(self, polls: Sequence[PollState]) -> Dict[str, Any]:
        """The ``leaderboard`` of a message: the top places with the places each moved since the last reveal.

        Kept, like the standings, until :meth:`forget_standings`.
        """
        if self._board is not None:
            return self._board
        latest = max((p.answer_revealed for p in polls if p.kind == QUIZ), default=0)
        now = self.standings(polls)
        before = {s.voter: s.rank for s in self.standings(polls, before=latest)} if latest else {}
        top = [
            {
                "rank": s.rank,
                "nickname": s.nickname,
                "score": s.total,
                "moved": (before[s.voter] - s.rank) if s.voter in before and latest > 1 else None,
            }
            for s in now[:LEADERBOARD_SHOWN]
        ]
        self._board = {"top": top, "podium": top[:PODIUM], "participants": len(now)}
        return self._board

    def scores(self, poll: PollState, polls: Sequence[PollState]) -> Dict[str, Dict[str, Any]]:
        """Each participant's ``score`` message for the revealed quiz question ``poll``, by voter."""
        ranked = self.standings(polls)
        scores: Dict[str, Dict[str, Any]] = {}
        for standing in ranked:
            ballot = poll.ballots.get(standing.voter)
            points = quiz_answer(ballot)[1] if ballot is not None else 0
            scores[standing.voter] = {
                "type": "score",
                "poll": poll.id,
                "points": points,
                "correct": points > 0,
                "answered": ballot is not None,
                "nickname": standing.nickname,
                "total": standing.total,
                "rank": standing.rank,
                "of": len(ranked),
            }
        return scores

    def me(self, voter: str, polls: Sequence[PollState]) -> Optional[Dict[str, Any]]:
        """``voter``'s nickname, total and rank (None without a nickname): for its ``hello`` reply."""
        if voter not in self.nicknames:
            return None
        ranked = self.standings(polls)
        mine = self._places[voter]
        return {"nickname": mine.nickname, "total": mine.total, "rank": mine.rank, "of": len(ranked)}

    # The whole state -------------------------------------------------------------

    def snapshot(self) -> Dict[str, Any]:
        return {"nicknames": dict(sorted(self.nicknames.items()))}

    @classmethod
    def restore(cls, data: Mapping[str, Any]) -> "Players":
        return cls({str(voter): str(name) for voter, name in data.get("nicknames", {}).items()})
