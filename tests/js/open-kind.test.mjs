// The open poll kind's page helpers (pollhub/static/open-kind.js): node --test tests/js/
import { test } from "node:test";
import assert from "node:assert/strict";

import * as O from "../../pollhub/static/open-kind.js";
import { DEFAULT_LIMITS } from "../../pollhub/static/limits.js";
import { initialState, reduce, validChoice } from "../../pollhub/static/state.js";

const N = new Intl.NumberFormat();

test("words and open polls take typed answers, the others do not", () => {
  assert.equal(O.takesAnswers({ kind: "open" }), true);
  assert.equal(O.takesAnswers({ kind: "words" }), true);
  for (const kind of ["single", "multiple", "counter", "scale"]) assert.equal(O.takesAnswers({ kind }), false);
  assert.equal(O.takesAnswers(null), false);
});

test("an open answer may be 280 characters, a words answer what the server says", () => {
  assert.equal(O.answerLimit({ kind: "open" }, DEFAULT_LIMITS), 280);
  assert.equal(O.answerLimit({ kind: "open" }, Object.assign({}, DEFAULT_LIMITS, { open_answer_length: 500 })), 500);
  const older = Object.assign({}, DEFAULT_LIMITS);
  delete older.open_answer_length; // limits from before the open kind
  assert.equal(O.answerLimit({ kind: "open" }, older), 280);
  assert.equal(O.answerLimit({ kind: "words" }, DEFAULT_LIMITS), DEFAULT_LIMITS.answer_length);
  assert.equal(O.answersDefault("open", DEFAULT_LIMITS), 1);
  assert.equal(O.answersDefault("words", DEFAULT_LIMITS), DEFAULT_LIMITS.answers_default);
});

test("lengths count characters once white space is collapsed, as the server does", () => {
  assert.equal(O.answerLength("  two \n\t words  "), 9);
  assert.equal(O.answerLength("\u{1F600}\u{1F600}"), 2); // two characters, four UTF-16 units
  assert.equal(O.answerLength(""), 0);
});

test("the character count warns near the limit and flags what is over it", () => {
  assert.deepEqual(O.countText("hello", 280), { text: "5 / " + N.format(280), over: false, near: false });
  assert.deepEqual(O.countText("x".repeat(265), 280), { text: N.format(265) + " / " + N.format(280), over: false, near: true });
  assert.equal(O.countText("x".repeat(280), 280).over, false);
  assert.equal(O.countText("x".repeat(281), 280).over, true);
  assert.equal(O.countText("x".repeat(281), 280).near, false);
});

test("answers come newest first, ties by text as the server orders them, malformed ones dropped", () => {
  const poll = {
    answers: [
      { text: "b", at: 10 },
      { text: "late", at: 30.5 },
      { text: "c", at: 10 },
      { text: "no time" },
      { text: 4, at: 11 },
      null,
      { text: "inf", at: Infinity }
    ]
  };
  assert.deepEqual(O.newestAnswers(poll).map((a) => a.text), ["late", "c", "b"]);
  assert.deepEqual(O.newestAnswers({}), []);
  assert.deepEqual(O.newestAnswers({ answers: "nope" }), []);
});

test("an answer's time is the device's clock time, and ISO 8601 for <time>", () => {
  const at = new Date(2026, 10, 29, 9, 5, 42).getTime() / 1000;
  assert.equal(O.answerTime(at), "09:05");
  assert.equal(O.answerTime(new Date(2026, 0, 1, 23, 59).getTime() / 1000), "23:59");
  assert.equal(O.answerDatetime(1790000000.25), "2026-09-21T14:13:20.250Z");
});

test("a screen reader hears the newest three answers and the total", () => {
  const poll = { total: 4, answers: [{ text: "d", at: 4 }, { text: "c", at: 3 }, { text: "b", at: 2 }, { text: "a", at: 1 }] };
  assert.equal(O.summarizeAnswers(poll), "Latest answers: “d”, “c”, “b”. 4 answers in total.");
  assert.equal(O.summarizeAnswers({ total: 0, answers: [] }), "");
  assert.equal(O.answersTotal({ total: 3 }, 2), "2 voters · 3 answers");
});

test("the reducer keeps an open poll's answers from results and the voter's answers from hello", () => {
  const poll = { id: "ideas", kind: "open", question: "Ideas?", open: true, options: [], max_answers: 2, counts: {}, total: 0, voters: 0, answers: [], resets: 0, changes: "allowed", results: "always", visible: true };
  let state = reduce(initialState(), { type: "welcome", version: 2, current: "ideas", polls: [poll], limits: DEFAULT_LIMITS, seq: 1 }, 0);
  state = reduce(state, { type: "results", poll: "ideas", counts: {}, total: 1, voters: 1, answers: [{ text: "More breaks", at: 12.5 }], seq: 2 }, 0);
  assert.deepEqual(state.polls.get("ideas").answers, [{ text: "More breaks", at: 12.5 }]);
  state = reduce(state, { type: "hello", voter: "v", admin: false, choices: { ideas: ["More breaks"] } }, 0);
  assert.deepEqual(state.choices, { ideas: ["More breaks"] });
  assert.equal(validChoice(poll, []), false);
  // A welcome a moment behind (a reconnect to another node) keeps the later answers with the later counts.
  state = reduce(state, { type: "welcome", version: 2, current: "ideas", polls: [poll], limits: DEFAULT_LIMITS, seq: 1 }, 0);
  assert.deepEqual(state.polls.get("ideas").answers, [{ text: "More breaks", at: 12.5 }]);
});
