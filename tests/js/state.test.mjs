// The pages' reducer (pollhub/static/state.js): node --test tests/js/
import { test } from "node:test";
import assert from "node:assert/strict";

import { initialState, reduce, setDraft, currentPoll, validChoice } from "../../pollhub/static/state.js";
import { DEFAULT_LIMITS } from "../../pollhub/static/limits.js";

const LIMITS = { polls: 75, options: [2, 32], question_length: 300, label_length: 100, scale: [-100, 100], scale_values: 21, scale_default: [1, 5], answers: [1, 10], answers_default: 3, answer_length: 40, close_after: [1, 86400], vote_rate: 20 };

function single(id, extra) {
  return Object.assign({ id, kind: "single", question: "Lunch?", open: true, options: [{ id: "a", label: "Pizza" }, { id: "b", label: "Salad" }], counts: { a: 0, b: 0 }, total: 0, voters: 0, resets: 0, changes: "allowed", results: "always" }, extra);
}

function welcomed(polls, extra) {
  return reduce(initialState(), Object.assign({ type: "welcome", version: 2, current: polls.length ? polls[0].id : null, polls, limits: LIMITS }, extra), 1000);
}

test("a welcome replaces everything and reads the limits", () => {
  const state = welcomed([single("p1"), single("p2")], { limits: Object.assign({}, LIMITS, { answer_length: 12, close_after: [5, 600] }) });
  assert.equal(state.welcomed, true);
  assert.deepEqual([...state.polls.keys()], ["p1", "p2"]);
  assert.equal(state.current, "p1");
  assert.equal(currentPoll(state).question, "Lunch?");
  assert.equal(state.limits.answer_length, 12);
  assert.deepEqual(state.limits.close_after, [5, 600]);
  assert.equal(state.limits.vote_rate, 20);
});

test("a welcome without limits, or with broken ones, keeps the defaults", () => {
  const state = welcomed([], { limits: { answer_length: "many", scale: [5, 1], answers: [1] } });
  assert.equal(state.limits.answer_length, DEFAULT_LIMITS.answer_length);
  assert.deepEqual(state.limits.scale, DEFAULT_LIMITS.scale);
  assert.deepEqual(state.limits.answers, DEFAULT_LIMITS.answers);
  assert.equal(reduce(initialState(), { type: "welcome", polls: [] }).limits.question_length, 300);
  assert.equal(initialState().current, null);
});

test("the reducer never changes the state it is given", () => {
  const before = welcomed([single("p1")]);
  const poll = before.polls.get("p1");
  const next = reduce(before, { type: "results", poll: "p1", counts: { a: 2, b: 1 }, total: 3, voters: 3, seq: 4 });
  assert.notEqual(next, before);
  assert.deepEqual(poll.counts, { a: 0, b: 0 });
  assert.equal(before.polls.get("p1"), poll);
  assert.equal(next.polls.get("p1").total, 3);
  assert.equal(before.seq.get("p1"), 0);
});

test("results with a lower or equal seq are ignored, newer ones taken", () => {
  let state = welcomed([single("p1")]);
  state = reduce(state, { type: "results", poll: "p1", counts: { a: 5, b: 2 }, total: 7, voters: 7, seq: 10 });
  assert.equal(state.seq.get("p1"), 10);
  const stale = reduce(state, { type: "results", poll: "p1", counts: { a: 1, b: 0 }, total: 1, voters: 1, seq: 9 });
  assert.equal(stale, state);
  assert.equal(reduce(state, { type: "results", poll: "p1", counts: { a: 1, b: 0 }, total: 1, voters: 1, seq: 10 }), state);
  const fresh = reduce(state, { type: "results", poll: "p1", counts: { a: 6, b: 2 }, total: 8, voters: 8, seq: 11 });
  assert.deepEqual(fresh.polls.get("p1").counts, { a: 6, b: 2 });
  assert.equal(fresh.polls.get("p1").total, 8);
  assert.equal(fresh.seq.get("p1"), 11);
});

test("results for an unknown poll change nothing", () => {
  const state = welcomed([single("p1")]);
  assert.equal(reduce(state, { type: "results", poll: "nope", counts: {}, total: 0, seq: 99 }), state);
});

test("a poll without visible results is kept without counts, and the first results after that are taken whatever their seq", () => {
  let state = welcomed([single("p1")]);
  state = reduce(state, { type: "results", poll: "p1", counts: { a: 3, b: 1 }, total: 4, voters: 4, seq: 7 });
  const hidden = single("p1", { visible: false, results: "after_vote", counts: undefined, total: undefined, voters: undefined });
  delete hidden.counts;
  delete hidden.total;
  delete hidden.voters;
  state = reduce(state, { type: "poll", poll: hidden });
  const held = state.polls.get("p1");
  assert.equal(held.visible, false);
  assert.equal(held.counts, undefined);
  assert.equal(state.seq.get("p1"), 7);
  // Voted: the counts come back with an older seq than the last ones held, and are taken.
  state = reduce(state, { type: "results", poll: "p1", counts: { a: 2, b: 1 }, total: 3, voters: 3, seq: 5 });
  assert.equal(state.polls.get("p1").visible, true);
  assert.deepEqual(state.polls.get("p1").counts, { a: 2, b: 1 });
  assert.equal(state.seq.get("p1"), 7);
  // From then on the seq rules again.
  assert.equal(reduce(state, { type: "results", poll: "p1", counts: { a: 0, b: 0 }, total: 0, voters: 0, seq: 6 }), state);
});

test("a poll message adds or replaces a poll in place and notes its countdown's local deadline", () => {
  let state = welcomed([single("p1"), single("p2")]);
  state = reduce(state, { type: "poll", poll: single("p1", { question: "Dinner?", closes_in: 30 }) }, 5000);
  assert.deepEqual([...state.polls.keys()], ["p1", "p2"]);
  assert.equal(state.polls.get("p1").question, "Dinner?");
  assert.equal(state.polls.get("p1").closesAt, 35000);
  state = reduce(state, { type: "poll", poll: single("p3", { open: false, closes_in: 30 }) }, 5000);
  assert.deepEqual([...state.polls.keys()], ["p1", "p2", "p3"]);
  assert.equal(state.polls.get("p3").closesAt, null);
});

test("order, current and deleted", () => {
  let state = welcomed([single("p1"), single("p2"), single("p3")]);
  state = reduce(state, { type: "order", polls: ["p3", "p1"] });
  assert.deepEqual([...state.polls.keys()], ["p3", "p1", "p2"]);
  state = reduce(state, { type: "current", poll: "p2" });
  assert.equal(state.current, "p2");
  assert.equal(currentPoll(state).id, "p2");
  state = reduce(state, { type: "deleted", poll: "p2" });
  assert.equal(state.current, null);
  assert.equal(currentPoll(state), null);
  assert.deepEqual([...state.polls.keys()], ["p3", "p1"]);
  assert.equal(state.seq.has("p2"), false);
  state = reduce(state, { type: "deleted", poll: "p3" });
  assert.equal(state.current, null);
  assert.deepEqual([...state.polls.keys()], ["p1"]);
});

test("hello brings this voter's choices, and drops those that do not fit", () => {
  let state = welcomed([single("p1"), single("p2"), single("p3", { kind: "counter" })]);
  state = reduce(state, { type: "hello", voter: "v", admin: false, choices: { p1: "a", p2: "zz", p3: "a", gone: "a" } });
  assert.deepEqual(state.choices, { p1: "a" });
  assert.equal(state.admin, false);
  assert.equal(reduce(state, { type: "hello", admin: true, choices: {} }).admin, true);
});

test("a reset clears this voter's vote and draft, even while the counts are held back", () => {
  let state = welcomed([single("p1", { counts: { a: 1, b: 0 }, total: 1, voters: 1 }), single("p2", { kind: "multiple", counts: { a: 1, b: 1 }, total: 2, voters: 1 })]);
  state = reduce(state, { type: "hello", choices: { p1: "a", p2: ["a", "b"] } });
  state = setDraft(state, "p2", ["a"]);
  assert.deepEqual(state.choices, { p1: "a", p2: ["a", "b"] });
  // The counts arrive empty: nobody holds a vote any more.
  state = reduce(state, { type: "results", poll: "p1", counts: { a: 0, b: 0 }, total: 0, voters: 0, seq: 3 });
  assert.equal(state.choices.p1, undefined);
  // A poll message whose reset count moved on, counts hidden.
  const reset = single("p2", { kind: "multiple", visible: false, resets: 1 });
  delete reset.counts;
  state = reduce(state, { type: "poll", poll: reset });
  assert.deepEqual(state.choices, {});
  assert.deepEqual(state.drafts, {});
});

test("a poll message that changes nothing about votes keeps the vote", () => {
  let state = welcomed([single("p1", { counts: { a: 1, b: 0 }, total: 1, voters: 1 })]);
  state = reduce(state, { type: "hello", choices: { p1: "a" } });
  state = reduce(state, { type: "poll", poll: single("p1", { open: false, counts: { a: 1, b: 0 }, total: 1, voters: 1 }) });
  assert.equal(state.choices.p1, "a");
  assert.equal(state.polls.get("p1").open, false);
});

test("voted: a choice as counted, a tap in a counter poll", () => {
  let state = welcomed([single("p1"), single("c", { kind: "counter" }), single("w", { kind: "words", max_answers: 3 })]);
  state = setDraft(state, "w", ["blue"]);
  state = reduce(state, { type: "voted", poll: "p1", option: "b", ref: "r1" });
  assert.equal(state.choices.p1, "b");
  state = reduce(state, { type: "voted", poll: "c", option: "a" });
  state = reduce(state, { type: "voted", poll: "c", option: "a" });
  assert.equal(state.taps.c, 2);
  assert.equal(state.choices.c, undefined);
  state = reduce(state, { type: "voted", poll: "w", text: ["blue", "green"] });
  assert.deepEqual(state.choices.w, ["blue", "green"]);
  assert.equal(state.drafts.w, undefined);
  assert.equal(reduce(state, { type: "voted", poll: "nope", option: "a" }), state);
});

test("presence, and messages the reducer does not know", () => {
  let state = welcomed([]);
  state = reduce(state, { type: "presence", participants: 12 });
  assert.equal(state.participants, 12);
  assert.equal(reduce(state, { type: "error", code: "rate_limited" }), state);
  assert.equal(reduce(state, null), state);
});

test("validChoice by kind", () => {
  const poll = single("p1");
  assert.equal(validChoice(poll, "a"), true);
  assert.equal(validChoice(poll, "x"), false);
  assert.equal(validChoice(Object.assign({}, poll, { kind: "multiple" }), ["a", "b"]), true);
  assert.equal(validChoice(Object.assign({}, poll, { kind: "multiple" }), []), false);
  assert.equal(validChoice({ kind: "scale" }, 3), true);
  assert.equal(validChoice({ kind: "words" }, ["x"]), true);
  assert.equal(validChoice(Object.assign({}, poll, { kind: "counter", changes: "locked" }), "a"), true);
});

test("a welcome from a node a moment behind keeps the later counts held, so no total goes backwards", () => {
  let state = welcomed([single("p1"), single("p2")], { seq: 3 });
  state = reduce(state, { type: "results", poll: "p1", counts: { a: 5, b: 1 }, total: 6, voters: 6, seq: 9 });
  // Reconnected to another node that has applied the log up to seq 7 only.
  state = reduce(state, { type: "welcome", version: 2, current: "p1", seq: 7, limits: LIMITS, polls: [
    single("p1", { counts: { a: 4, b: 1 }, total: 5, voters: 5, question: "Lunch today?" }),
    single("p2", { counts: { a: 2, b: 0 }, total: 2, voters: 2 }),
  ] });
  assert.equal(state.polls.get("p1").total, 6);
  assert.deepEqual(state.polls.get("p1").counts, { a: 5, b: 1 });
  assert.equal(state.polls.get("p1").question, "Lunch today?"); // everything else from the welcome
  assert.equal(state.seq.get("p1"), 9);
  assert.equal(state.polls.get("p2").total, 2); // nothing held was later: the welcome's
  assert.equal(state.seq.get("p2"), 7);
  // A later welcome wins as usual.
  state = reduce(state, { type: "welcome", version: 2, current: "p1", seq: 12, limits: LIMITS, polls: [single("p1", { counts: { a: 7, b: 1 }, total: 8, voters: 8 })] });
  assert.equal(state.polls.get("p1").total, 8);
});
