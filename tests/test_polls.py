"""Polls with no threads: slugify, unique slugs, PollState voting, lookup, reset, snapshots."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any, Dict, Tuple

import pytest

from pollhub import COUNTER, MULTIPLE, SCALE, SINGLE, WORDS, BadMessage, InvalidVote, PollClosed, UnknownOption, VoteLocked
from pollhub import protocol
from pollhub.errors import InternalError, TooManyPolls, error_from_code
from pollhub.polls import (
    MAX_LABEL_LENGTH,
    MAX_OPTIONS,
    MAX_POLLS,
    MAX_QUESTION_LENGTH,
    WORDS_SHOWN,
    Option,
    Poll,
    PollState,
    Settings,
    answer_key,
    check_new_poll,
    slugify,
    unique_slug,
)
from pollhub.protocol import Message
from pollhub.text import strip_format


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
    assert poll.resets == 1  # so that a page that sees no counts can tell its vote is gone


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
        "resets": 0,
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


# Kinds and settings --------------------------------------------------------------


def make(kind: str, labels: Tuple[str, ...] = (), **fields: Any) -> PollState:
    """A poll built as create_poll builds it, from wire fields."""
    _, cleaned, settings = check_new_poll("Q?", list(labels), {"kind": kind, **fields})
    return PollState("p", "Q?", cleaned, settings)


def test_new_poll_defaults() -> None:
    """Defaults: every option for multiple, 1..5 for scale, 3 answers for words, always, allowed."""
    assert make(MULTIPLE, ("A", "B", "C")).settings.max_choices == 3
    scale = make(SCALE).settings
    assert (scale.scale_min, scale.scale_max) == (1, 5)
    assert make(WORDS).settings.max_answers == 3
    assert make(SINGLE, ("A", "B")).settings == Settings()


@pytest.mark.parametrize(
    "kind, labels, fields, message",
    [
        ("single", ("A",), {}, "2 to 32 options"),
        ("scale", ("A", "B"), {}, "scale polls take no options"),
        ("words", ("A", "B"), {}, "words polls take no options"),
        ("multiple", ("A", "B"), {"max_choices": 3}, "max_choices must be a whole number from 1 to 2"),
        ("multiple", ("A", "B"), {"max_choices": 0}, "max_choices"),
        ("multiple", ("A", "B"), {"max_choices": True}, "max_choices"),
        ("single", ("A", "B"), {"max_choices": 1}, "'max_choices' does not apply to single polls"),
        ("scale", (), {"min": 5, "max": 5}, "min below max"),
        ("scale", (), {"min": 0, "max": 21}, "at most 21 values"),
        ("scale", (), {"min": -101, "max": 0}, "from -100 to 100"),
        ("scale", (), {"min": 1.5}, "whole number"),
        ("scale", (), {"max_answers": 2}, "does not apply to scale"),
        ("words", (), {"max_answers": 11}, "from 1 to 10"),
        ("single", ("A", "B"), {"results": "never"}, "results must be one of always, after_vote, after_close, hidden"),
        ("single", ("A", "B"), {"changes": "sometimes"}, "changes must be one of allowed, locked"),
        ("poll", ("A", "B"), {}, "kind must be one of single, multiple, counter, scale, words"),
    ],
)
def test_new_poll_settings_are_checked(kind: str, labels: Tuple[str, ...], fields: Dict[str, Any], message: str) -> None:
    with pytest.raises(BadMessage, match=re.escape(message)):
        make(kind, labels, **fields)


def test_multiple_choice_selection_replaces_the_previous_one() -> None:
    """A multiple-choice vote is the voter's whole selection; counts per option, voters counted once."""
    poll = make(MULTIPLE, ("Red", "Green", "Blue"), max_choices=2)
    assert poll.vote("ann", ["red", "Blue"]) == (("red", "blue"), True)
    assert poll.vote("bob", "green") == (("green",), True)  # a plain option is a selection of one
    assert poll.vote("ann", ["blue", "red"]) == (("red", "blue"), False)  # the same selection in another order
    assert poll.vote("ann", ["green"]) == (("green",), True)
    assert poll.counts == {"red": 0, "green": 2, "blue": 0}
    assert poll.results() == {"counts": {"red": 0, "green": 2, "blue": 0}, "total": 2, "voters": 2}
    assert poll.choice_json(poll.ballots["ann"]) == ["green"]


@pytest.mark.parametrize(
    "choice, error",
    [
        (["red", "green", "blue"], InvalidVote),  # more than max_choices
        ([], InvalidVote),
        (["red", 3], InvalidVote),
        (["red", "purple"], UnknownOption),
        (7, InvalidVote),
    ],
)
def test_multiple_choice_refuses_bad_selections(choice: Any, error: type) -> None:
    poll = make(MULTIPLE, ("Red", "Green", "Blue"), max_choices=2)
    poll.vote("ann", ["red"])
    with pytest.raises(error):
        poll.vote("ann", choice)
    assert poll.ballots == {"ann": ("red",)} and poll.total == 1


def test_duplicates_in_a_selection_count_once() -> None:
    poll = make(MULTIPLE, ("Red", "Green"), max_choices=1)
    assert poll.vote("ann", ["red", "RED", "Red"]) == (("red",), True)


def test_scale_distribution_voters_and_mean() -> None:
    """A scale keeps each voter's value: a count per value (zeros included), voters and the mean."""
    poll = make(SCALE, min=0, max=3)
    assert poll.results() == {"counts": {"0": 0, "1": 0, "2": 0, "3": 0}, "total": 0, "voters": 0, "mean": None}
    poll.vote("ann", 3)
    poll.vote("bob", "1")  # bare text votes arrive as strings
    poll.vote("cy", 3)
    poll.vote("cy", 2)  # cy changes their mind
    assert poll.results() == {"counts": {"0": 0, "1": 1, "2": 1, "3": 1}, "total": 3, "voters": 3, "mean": 2.0}
    assert poll.choice_json(poll.ballots["cy"]) == 2


@pytest.mark.parametrize("value", [4, -1, "4", "two", 2.5, True, None, ["1"]])
def test_scale_refuses_values_outside_the_range(value: Any) -> None:
    poll = make(SCALE, min=0, max=3)
    with pytest.raises(InvalidVote, match="whole number from 0 to 3"):
        poll.vote("ann", value)
    assert not poll.ballots and poll.results()["voters"] == 0


def test_words_are_normalised_and_compared_ignoring_case() -> None:
    """Answers are whitespace-collapsed and case-folded for counting, shown with the first spelling."""
    poll = make(WORDS, max_answers=2)
    assert poll.vote("ann", ["  New   York ", "Paris"]) == (("New York", "Paris"), True)
    poll.vote("bob", "new york")
    poll.vote("cy", ["PARIS", "paris", "Rome"])  # one voter's duplicates count once
    assert poll.results() == {"counts": {"New York": 2, "Paris": 2, "Rome": 1}, "total": 5, "voters": 3}
    poll.vote("ann", "Rome")  # ann's answers are replaced
    assert poll.results()["counts"] == {"Rome": 2, "New York": 1, "Paris": 1}
    assert poll.choice_json(poll.ballots["cy"]) == ["PARIS", "Rome"]


@pytest.mark.parametrize("choice", ["", "   ", "x" * 41, ["a", "b", "c", "d"], [], 5, ["a", None]])
def test_words_refuses_bad_answers(choice: Any) -> None:
    poll = make(WORDS)
    with pytest.raises(InvalidVote):
        poll.vote("ann", choice)
    assert not poll.ballots and poll.counts == {}


def test_words_results_keep_the_biggest_answers_first() -> None:
    """Results carry at most WORDS_SHOWN answers, the most given first, ties in the order first given."""
    poll = make(WORDS, max_answers=1)
    for i in range(WORDS_SHOWN + 10):
        poll.vote(f"v{i}", f"word {i}")
    poll.vote("extra", "word 7")
    counts = poll.results()["counts"]
    assert len(counts) == WORDS_SHOWN
    assert list(counts)[:3] == ["word 7", "word 0", "word 1"]
    assert poll.results()["total"] == WORDS_SHOWN + 11
    assert len(poll.results(shown=None)["counts"]) == WORDS_SHOWN + 10


def test_hidden_answers_leave_the_results() -> None:
    """A hidden answer is left out of counts and total, now and for later votes, but votes still count."""
    poll = make(WORDS)
    poll.vote("ann", ["Great", "Rude"])
    assert poll.hide("  rude ") is True
    assert poll.hide("RUDE") is False
    poll.vote("bob", "rude")
    assert poll.results() == {"counts": {"Great": 1}, "total": 1, "voters": 2}
    poll.reset()
    poll.vote("cy", "Rude")
    assert poll.results()["counts"] == {}  # moderation outlives a reset


def test_locked_votes_cannot_change() -> None:
    """With changes locked the first vote stands; the same vote again is not an error."""
    poll = make(SINGLE, ("A", "B"), changes="locked")
    poll.vote("ann", "a")
    assert poll.vote("ann", "A") == (("a",), False)
    with pytest.raises(VoteLocked) as info:
        poll.vote("ann", "b")
    assert info.value.code == "vote_locked" and "first vote stands" in info.value.message
    assert poll.counts == {"a": 1, "b": 0}


def test_locked_counter_takes_one_vote_per_voter() -> None:
    poll = make(COUNTER, ("A", "B"), changes="locked")
    poll.vote("ann", "a")
    assert poll.vote("ann", "a") == (("a",), False)
    with pytest.raises(VoteLocked):
        poll.vote("ann", "b")
    assert poll.total == 1


@pytest.mark.parametrize(
    "mode, is_open, revealed, public, after_voting",
    [
        ("always", True, False, True, True),
        ("after_vote", True, False, False, True),
        ("after_vote", False, False, True, True),
        ("after_close", True, False, False, False),
        ("after_close", False, False, True, True),
        ("hidden", True, False, False, False),
        ("hidden", False, False, False, False),
        ("hidden", True, True, True, True),
        ("after_close", True, True, True, True),
    ],
)
def test_who_sees_the_results(mode: str, is_open: bool, revealed: bool, public: bool, after_voting: bool) -> None:
    """results_public for everyone; visible_to for one voter, before and after they vote."""
    poll = make(SINGLE, ("A", "B"), results=mode)
    poll.vote("ann", "a")
    poll.open, poll.revealed = is_open, revealed
    assert poll.results_public is public
    assert poll.visible_to("bob") is public
    assert poll.visible_to("ann") is after_voting


def test_to_json_without_results() -> None:
    """A poll object for someone who may not see the results has no counts, totals or voters."""
    poll = make(SCALE, results="hidden")
    poll.vote("ann", 4)
    data = poll.to_json(visible=False)
    assert data["visible"] is False and data["min"] == 1 and data["max"] == 5
    assert not {"counts", "total", "voters", "mean"} & set(data)
    assert Poll.from_json(data).visible is False and Poll.from_json(poll.to_json()).mean == 4.0


def test_restore_recounts_from_ballots() -> None:
    """A saved poll comes back with the same results, recounted from its ballots."""
    poll = make(WORDS, max_answers=2)
    poll.vote("ann", ["Blue", "Green"])
    poll.vote("bob", ["blue"])
    poll.hide("green")
    again = PollState.restore("p", "Q?", poll.settings, [], dict(poll.ballots), hidden=poll.hidden)
    assert again.results() == poll.results() == {"counts": {"Blue": 2}, "total": 2, "voters": 2}


# Text that is not what it looks like ---------------------------------------------

SPAM_VARIANTS = ["Spam", "Sp\u200bam", "Sp\u00adam", "\uff33\uff50\uff41\uff4d", "S\u2060pam\ufeff", "\u202aSPAM\u202c", " spam\t"]


def test_answers_that_look_the_same_count_as_one() -> None:
    """Zero-width and format characters, the soft hyphen and full-width letters do not make a new answer."""
    poll = make(WORDS, max_answers=1)
    for i, variant in enumerate(SPAM_VARIANTS):
        poll.vote(f"v{i}", variant)
    assert poll.results() == {"counts": {"Spam": len(SPAM_VARIANTS)}, "total": len(SPAM_VARIANTS), "voters": 7}
    assert poll.choice_json(poll.ballots["v3"]) == ["Spam"]  # shown as normalised: no full-width on the projector


def test_one_voter_cannot_give_the_same_answer_twice_in_disguise() -> None:
    """A voter's answers that look the same are one answer, and voting them again changes nothing."""
    poll = make(WORDS, max_answers=3)
    assert poll.vote("ann", ["Spam", "Sp\u200bam", "\uff33\uff50\uff41\uff4d"]) == (("Spam",), True)
    assert poll.vote("ann", "SP\u00adAM") == (("Spam",), False)
    assert poll.results()["total"] == 1


@pytest.mark.parametrize("hidden", SPAM_VARIANTS)
def test_one_hide_hides_every_variant(hidden: str) -> None:
    """Hiding any spelling hides all those that look the same, given before or after."""
    poll = make(WORDS, max_answers=1)
    poll.vote("ann", "Spam")
    poll.vote("bob", "Sp\u200bam")
    poll.vote("keep", "Eggs")
    assert poll.hide(hidden) is True
    poll.vote("cy", "\uff33\uff50\uff41\uff4d")
    poll.vote("dee", "Sp\u00adam")
    assert poll.results() == {"counts": {"Eggs": 1}, "total": 1, "voters": 5}
    assert all(poll.hide(variant) is False for variant in SPAM_VARIANTS)


@pytest.mark.parametrize(
    "answer", ["\u200b\u200b", "\u00ad", "\u200d", "\ufeff \u2060", "\u3164", "\u2800", "\u0301", "\u202e\u202c"]
)
def test_answers_with_nothing_visible_are_refused(answer: str) -> None:
    """An answer of only format characters, fillers or combining marks shows nothing: InvalidVote."""
    poll = make(WORDS)
    with pytest.raises(InvalidVote, match="visible"):
        poll.vote("ann", answer)
    assert not poll.ballots


@pytest.mark.parametrize("answer", ["a\ud800", "\udfff", "a\x00b", "\x1b[2J", "a\x85"])
def test_answers_that_are_not_text_are_refused(answer: str) -> None:
    """Lone surrogates and control characters (from the Python API too) are InvalidVote, never counted."""
    poll = make(WORDS)
    with pytest.raises(InvalidVote, match="control characters or lone surrogates"):
        poll.vote("ann", ["fine", answer])
    assert not poll.ballots and poll.counts == {}


def test_tabs_and_newlines_in_answers_are_collapsed() -> None:
    poll = make(WORDS)
    assert poll.vote("ann", "New\tYork\r\n") == (("New York",), True)


def test_look_alikes_from_other_scripts_stay_distinct() -> None:
    """Cyrillic "а" is not Latin "a": NFKC does not fold them, and pollhub does not either."""
    poll = make(WORDS, max_answers=1)
    poll.vote("ann", "Spam")
    poll.vote("bob", "Sp\u0430m")  # CYRILLIC SMALL LETTER A
    assert poll.results()["counts"] == {"Spam": 1, "Sp\u0430m": 1}
    poll.hide("spam")
    assert poll.results()["counts"] == {"Sp\u0430m": 1}  # a presenter hides that one too, when it shows


def test_hide_refuses_text_that_is_not_text() -> None:
    """The Python API's hide_answer goes through PollState.hide: surrogates would break the database."""
    poll = make(WORDS)
    with pytest.raises(BadMessage):
        poll.hide("sp\ud800am")
    assert poll.hide("\u200b") is False and not poll.hidden


def test_restore_keeps_keys_saved_by_the_old_answer_key() -> None:
    """Hidden keys saved before normalisation still hide the same answers, and now their look-alikes."""
    old_keys = ["spam", "sp\u200bam", "\uff45\uff47\uff47\uff53"]  # what " ".join(t.split()).casefold() saved
    poll = PollState.restore("p", "Q?", make(WORDS).settings, [], {}, hidden=old_keys)
    for i, answer in enumerate(["SPAM", "Sp\u00adam", "eggs", "Eggs", "Ham"]):
        poll.vote(f"v{i}", answer)
    assert poll.results()["counts"] == {"Ham": 1}


def test_restore_normalises_old_ballots() -> None:
    """Ballots saved before normalisation merge their look-alikes; answers with nothing visible are dropped."""
    ballots = {"ann": ("Spam", "Sp\u200bam"), "bob": ("\uff33\uff50\uff41\uff4d",), "cy": ("\u200b",)}
    poll = PollState.restore("p", "Q?", make(WORDS).settings, [], ballots)
    assert poll.results() == {"counts": {"Spam": 2}, "total": 2, "voters": 2}


def test_answer_key_of_an_old_key_is_the_new_key() -> None:
    """answer_key is idempotent, and agrees with the old key (collapse + casefold) for text in NFC."""
    for text in SPAM_VARIANTS + ["Straße", "ǅemal", "ΣΊΣΥΦΟΣ", "ﬁsh", "İstanbul", "Ⅻ", "①", "℃", "café", "cafe\u0301"]:
        key = answer_key(text)
        assert answer_key(key) == key
        assert answer_key(" ".join(text.split()).casefold()) == key
    assert answer_key("cafe\u0301") == answer_key("café") == "café"


def test_format_characters_are_all_known() -> None:
    """text.strip_format removes every character this Python's unicodedata puts in category Cf."""
    cf = "".join(chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf")
    assert strip_format(cf) == ""
    assert strip_format("a\u200bb\u00adc") == "abc"


@pytest.mark.parametrize(
    "question, labels, message",
    [
        ("Q\ud800?", ["a", "b"], "the question holds a control character or a lone surrogate"),
        ("Q\x00?", ["a", "b"], "the question holds a control character or a lone surrogate"),
        ("\u200b\u200b", ["a", "b"], "a poll needs a question"),
        ("Q?", ["a", "b\udc80"], "an option label holds a control character or a lone surrogate"),
        ("Q?", ["a", "\x1b[31mb"], "an option label holds a control character or a lone surrogate"),
        ("Q?", ["a", "\u00ad"], "every option needs a label"),
    ],
)
def test_questions_and_labels_must_be_text(question: str, labels: Any, message: str) -> None:
    """check_new_poll (create_poll, the Python API, the CLI) refuses what is not text, naming it."""
    with pytest.raises(BadMessage, match=re.escape(message)):
        check_new_poll(question, labels, {})


def test_whitespace_controls_in_questions_and_labels_are_collapsed() -> None:
    question, labels, _ = check_new_poll("Lunch\ttoday?\r\n", ["Ice\ncream", "Pizza"], {})
    assert (question, labels) == ("Lunch today?", ["Ice cream", "Pizza"])


@pytest.mark.parametrize("kind", [[], {}, 1, True, ""])
def test_kind_must_be_a_kind_name(kind: Any) -> None:
    """A kind of the wrong type is BadMessage (an unhashable one used to raise TypeError)."""
    with pytest.raises(BadMessage, match="kind must be one of"):
        check_new_poll("Q?", ["a", "b"], {"kind": kind})


@pytest.mark.parametrize("labels", [0, False, "ab", {"a": 1}, ["a"]])
def test_polls_without_options_refuse_any_options_value(labels: Any) -> None:
    """Scale and words polls take no options: only null or an empty list."""
    with pytest.raises(BadMessage, match="take no options"):
        check_new_poll("Q?", labels, {"kind": WORDS})
    assert check_new_poll("Q?", [], {"kind": WORDS})[1] == check_new_poll("Q?", None, {"kind": WORDS})[1] == []


# The cap on polls ----------------------------------------------------------------


def test_worst_case_welcome_at_max_polls_is_under_2_mb() -> None:
    """MAX_POLLS polls, each as big as the limits allow, make a welcome under 2 MB (the comment's figure)."""
    wide = [chr(0x20000 + i * MAX_LABEL_LENGTH) for i in range(MAX_OPTIONS + 1)]  # 4-byte letters, kept in slugs
    question = wide[-1] * MAX_QUESTION_LENGTH
    _, labels, settings = check_new_poll(question, [c * MAX_LABEL_LENGTH for c in wide[:-1]], {"kind": MULTIPLE})
    polls = []
    for n in range(MAX_POLLS):
        poll = PollState(unique_slug(question, [p.id for p in polls]), question, labels, settings)
        poll.counts = {option_id: 10**6 for option_id in poll.counts}
        polls.append(poll)
    size = len(Message(protocol.welcome(polls[0].id, [p.to_json() for p in polls])).payload)
    assert 1_800_000 < size < 2_000_000
    assert len(json.dumps(polls[0].to_json(), ensure_ascii=False).encode()) > 25_000  # the comment's 25.3 KB


def test_too_many_polls_is_an_error_code() -> None:
    assert error_from_code("too_many_polls", "x").__class__ is TooManyPolls
    assert error_from_code("internal", "x").__class__ is InternalError
