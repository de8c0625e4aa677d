"""Polls with no threads: slugify, unique slugs, PollState voting, lookup, reset, snapshots."""

from __future__ import annotations

import pytest

from pollhub import COUNTER, SINGLE, PollClosed, UnknownOption
from pollhub.polls import Option, PollState, Settings, slugify, unique_slug


def state(*labels: str, kind: str = SINGLE) -> PollState:
    return PollState("p", "Q?", labels or ("Pizza", "Ice cream"), Settings(kind))


# Slugs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, slug",
    [
        ("Ice cream!", "ice-cream"),
        ("Crème brûlée", "creme-brulee"),
        ("Ça va? Über-cool", "ca-va-uber-cool"),
        ("  Hello   World  ", "hello-world"),
        ("snake_case__name", "snake-case-name"),
        ("C++ / C#", "c-c"),
        ("ﬁne", "fine"),  # compatibility ligature folded by NFKD
        ("2024", "2024"),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    """Lower-case, accents folded, runs of other characters become one hyphen."""
    assert slugify(text) == slug


@pytest.mark.parametrize("text", ["", "   ", "!!!", "---", "?"])
def test_slugify_falls_back_when_nothing_is_left(text: str) -> None:
    """Text with no letters or digits gets the fallback."""
    assert slugify(text) == "option"
    assert slugify(text, fallback="poll") == "poll"


def test_slugify_cuts_long_text_without_a_trailing_hyphen() -> None:
    """Slugs are at most 40 characters and never end with the hyphen the cut left."""
    assert slugify("a" * 60) == "a" * 40
    assert slugify("x" * 39 + " yz") == "x" * 39


def test_unique_slug_appends_numbers() -> None:
    """A taken slug gets -2, then -3, ..."""
    assert unique_slug("Yes", []) == "yes"
    assert unique_slug("Yes!", ["yes"]) == "yes-2"
    assert unique_slug("YES", ["yes", "yes-2"]) == "yes-3"


def test_duplicate_option_slugs_get_numbered() -> None:
    """Options whose labels slugify alike get distinct ids."""
    poll = state("Ice cream", "Ice-cream!", "ice_cream?")
    assert [o.id for o in poll.options] == ["ice-cream", "ice-cream-2", "ice-cream-3"]
    assert [o.label for o in poll.options] == ["Ice cream", "Ice-cream!", "ice_cream?"]


def test_options_with_no_slug_get_the_fallback() -> None:
    """Labels made only of punctuation get option, option-2."""
    assert [o.id for o in state("?", "!").options] == ["option", "option-2"]


# Single-choice voting ------------------------------------------------------------


def test_new_poll_is_open_and_empty() -> None:
    """A new poll is open, with every count at zero."""
    poll = state()
    assert poll.open
    assert poll.counts == {"pizza": 0, "ice-cream": 0}
    assert poll.total == 0


def test_single_vote_counts_once() -> None:
    """A vote counts; voting again for the same option changes nothing."""
    poll = state()
    assert poll.vote("ann", "pizza") == (("pizza",), True)
    assert poll.vote("ann", "pizza") == (("pizza",), False)
    assert poll.counts == {"pizza": 1, "ice-cream": 0}
    assert poll.total == 1
    assert poll.ballots == {"ann": ("pizza",)}


def test_single_vote_moves() -> None:
    """A new choice replaces the old one: the count moves, the total stays."""
    poll = state()
    poll.vote("ann", "pizza")
    assert poll.vote("ann", "ice-cream") == (("ice-cream",), True)
    assert poll.counts == {"pizza": 0, "ice-cream": 1}
    assert poll.total == 1
    assert poll.ballots == {"ann": ("ice-cream",)}


def test_single_votes_from_different_voters() -> None:
    """Each voter has one choice; the total counts voters."""
    poll = state()
    poll.vote("ann", "pizza")
    poll.vote("bob", "pizza")
    poll.vote("cy", "ice-cream")
    poll.vote("bob", "ice-cream")
    assert poll.counts == {"pizza": 1, "ice-cream": 2}
    assert poll.total == 3


# Counter voting ------------------------------------------------------------------


def test_counter_counts_every_vote() -> None:
    """In a counter poll every vote counts, even the same voter's; the ballot is the last vote."""
    poll = state(kind=COUNTER)
    assert poll.vote("ann", "pizza") == (("pizza",), True)
    assert poll.vote("ann", "pizza") == (("pizza",), True)
    poll.vote("ann", "ice-cream")
    assert poll.counts == {"pizza": 2, "ice-cream": 1}
    assert poll.total == 3
    assert poll.ballots == {"ann": ("ice-cream",)}
    assert poll.results()["voters"] == 1


# Errors --------------------------------------------------------------------------


def test_closed_poll_refuses_votes() -> None:
    """Voting on a closed poll raises PollClosed and changes nothing."""
    poll = state()
    poll.vote("ann", "pizza")
    poll.open = False
    with pytest.raises(PollClosed) as info:
        poll.vote("bob", "pizza")
    assert info.value.code == "poll_closed"
    with pytest.raises(PollClosed):
        poll.vote("ann", "ice-cream")
    assert poll.counts == {"pizza": 1, "ice-cream": 0}
    assert poll.total == 1
    assert poll.ballots == {"ann": ("pizza",)}


def test_unknown_option() -> None:
    """An option that is neither an id nor a label raises UnknownOption and changes nothing."""
    poll = state()
    with pytest.raises(UnknownOption) as info:
        poll.vote("ann", "sushi")
    assert info.value.code == "unknown_option"
    assert poll.total == 0
    assert poll.ballots == {}


def test_reopened_poll_accepts_votes() -> None:
    """Closing is not final: a reopened poll counts votes again."""
    poll = state()
    poll.open = False
    poll.open = True
    assert poll.vote("ann", "pizza") == (("pizza",), True)


# Lookup --------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["ice-cream", "ICE-CREAM", "Ice cream", "ice CREAM", "  ice cream  "])
def test_lookup_by_id_or_label_ignores_case(key: str) -> None:
    """Options are found by id or label, ignoring case and surrounding spaces."""
    poll = state()
    assert poll.find_option(key) == "ice-cream"
    assert poll.vote(f"voter {key}", key) == (("ice-cream",), True)


def test_lookup_of_unknown_key() -> None:
    assert state().find_option("ice") is None


def test_ids_win_over_labels() -> None:
    """When one option's label matches another option's id, the id wins."""
    poll = state("Yes", "yes!", "Yes-2")  # ids: yes, yes-2, yes-2-2
    assert [o.id for o in poll.options] == ["yes", "yes-2", "yes-2-2"]
    assert poll.find_option("YES!") == "yes-2"
    assert poll.find_option("Yes-2") == "yes-2"  # the id of "yes!", not the label of the third
    assert poll.find_option("yes-2-2") == "yes-2-2"


# Reset and snapshots -------------------------------------------------------------


def test_reset_forgets_every_vote() -> None:
    """After reset the counts are zero and voters may vote afresh."""
    poll = state()
    poll.vote("ann", "pizza")
    poll.vote("bob", "ice-cream")
    poll.reset()
    assert poll.counts == {"pizza": 0, "ice-cream": 0}
    assert poll.total == 0
    assert poll.ballots == {}
    assert poll.vote("ann", "pizza") == (("pizza",), True)
    assert poll.total == 1


def test_to_json() -> None:
    """The protocol's poll object lists options in order with their counts."""
    poll = state()
    poll.vote("ann", "Pizza")
    assert poll.to_json() == {
        "id": "p",
        "question": "Q?",
        "options": [{"id": "pizza", "label": "Pizza"}, {"id": "ice-cream", "label": "Ice cream"}],
        "kind": "single",
        "open": True,
        "results": "always",
        "changes": "allowed",
        "revealed": False,
        "closes_in": None,
        "visible": True,
        "counts": {"pizza": 1, "ice-cream": 0},
        "total": 1,
        "voters": 1,
    }


def test_snapshot_does_not_change_with_later_votes() -> None:
    """A snapshot is a copy: later votes and resets do not show in it."""
    poll = state()
    poll.vote("ann", "pizza")
    snap = poll.snapshot()
    poll.vote("bob", "pizza")
    poll.reset()
    assert snap.counts == {"pizza": 1, "ice-cream": 0}
    assert snap.total == 1
    assert snap.options == (Option("pizza", "Pizza"), Option("ice-cream", "Ice cream"))
