// The pages' Q&A reducer, sorting and checks (pollhub/static/qa-state.js): node --test tests/js/
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  QUESTION_LENGTH, NAME_LENGTH, initialQa, reduceQa, sortQuestions, groupQuestions, highlighted,
  canUpvote, unseenCount, cleanText, textLength, checkQuestion, checkName, qaErrorText
} from "../../pollhub/static/qa-state.js";

function question(id, extra) {
  const n = Number(id.slice(1));
  return Object.assign({ id, text: "Question " + n + "?", name: null, upvotes: 0, state: "published", asked_at: 1000 + n, answered_at: null }, extra);
}

function welcomed(questions, settings) {
  const qa = Object.assign({ moderation: false, open: true, highlight: null, stage: "poll", questions }, settings);
  return reduceQa(initialQa(), { type: "welcome", polls: [], current: null, qa });
}

function ids(list) {
  return list.map((q) => q.id);
}

// The reducer ---------------------------------------------------------------------------

test("a welcome takes the settings and the questions, with this voter's flags", () => {
  const qa = welcomed([
    question("q1", { upvotes: 2, upvoted: true, mine: false }),
    question("q2", { state: "waiting", mine: true, upvoted: false })
  ], { moderation: true, open: false, highlight: "q1", stage: "qa" });
  assert.equal(qa.moderation, true);
  assert.equal(qa.open, false);
  assert.equal(qa.highlight, "q1");
  assert.equal(qa.stage, "qa");
  assert.deepEqual([...qa.questions.keys()], ["q1", "q2"]);
  assert.equal(qa.questions.get("q1").upvoted, true);
  assert.equal(qa.questions.get("q2").mine, true);
});

test("a welcome starts over: questions it does not list are gone", () => {
  const before = welcomed([question("q1"), question("q2")]);
  const after = reduceQa(before, { type: "welcome", qa: { moderation: false, open: true, highlight: null, stage: "poll", questions: [question("q2")] } });
  assert.deepEqual([...after.questions.keys()], ["q2"]);
  assert.deepEqual([...before.questions.keys()], ["q1", "q2"]);
});

test("a reconnect's welcome (before the hello) keeps the marks held until the hello reply sets them", () => {
  let qa = welcomed([question("q1", { mine: true }), question("q2", { upvotes: 1, upvoted: true })]);
  qa = reduceQa(qa, { type: "welcome", qa: { questions: [question("q1", { mine: false, upvoted: false }), question("q2", { upvotes: 1, mine: false, upvoted: false })] } });
  assert.equal(qa.questions.get("q1").mine, true);
  assert.equal(qa.questions.get("q2").upvoted, true);
  qa = reduceQa(qa, { type: "hello", qa: { mine: ["q1"], upvoted: [] } }); // taken back elsewhere meanwhile
  assert.equal(qa.questions.get("q1").mine, true);
  assert.equal(qa.questions.get("q2").upvoted, false);
});

test("a welcome without qa (a server without Q&A) holds nothing and takes no questions", () => {
  const qa = reduceQa(welcomed([question("q1")]), { type: "welcome", polls: [] });
  assert.equal(qa.questions.size, 0);
  assert.equal(qa.open, false);
  assert.equal(qa.stage, "poll");
});

test("a welcome reads the Q&A limits; missing or broken ones keep the defaults", () => {
  const qa = reduceQa(initialQa(), { type: "welcome", limits: { qa_question_length: 100, qa_name_length: 20 }, qa: { questions: [] } });
  assert.deepEqual(qa.limits, { question: 100, name: 20 });
  const broken = reduceQa(qa, { type: "welcome", limits: { qa_question_length: "x", qa_name_length: -1 }, qa: { questions: [] } });
  assert.deepEqual(broken.limits, { question: QUESTION_LENGTH, name: NAME_LENGTH });
  assert.deepEqual(initialQa().limits, { question: 280, name: 40 });
  assert.equal(checkQuestion("x".repeat(101), qa.limits.question).problem, "long");
  assert.equal(checkName("n".repeat(21), qa.limits.name).problem, "long");
});

test("broken settings and questions in a welcome are passed over", () => {
  const qa = reduceQa(initialQa(), {
    type: "welcome",
    qa: { moderation: "yes", open: 1, highlight: 7, stage: "wall", questions: [null, { id: "q1" }, question("q2"), "q3"] }
  });
  assert.equal(qa.moderation, false);
  assert.equal(qa.open, true);
  assert.equal(qa.highlight, null);
  assert.equal(qa.stage, "poll");
  assert.deepEqual([...qa.questions.keys()], ["q2"]);
  assert.equal(qa.questions.get("q2").mine, false);
  assert.equal(qa.questions.get("q2").upvoted, false);
});

test("a question message adds a new one and updates a held one, keeping mine and upvoted", () => {
  let qa = welcomed([question("q1", { upvotes: 1, upvoted: true })]);
  qa = reduceQa(qa, { type: "question", question: question("q2") });
  assert.deepEqual([...qa.questions.keys()], ["q1", "q2"]);
  qa = reduceQa(qa, { type: "question", question: question("q1", { upvotes: 5 }) });
  assert.equal(qa.questions.get("q1").upvotes, 5);
  assert.equal(qa.questions.get("q1").upvoted, true);
});

test("the reducer never changes the state it is given, and returns it when nothing changes", () => {
  const before = welcomed([question("q1", { upvotes: 1 })]);
  const held = before.questions.get("q1");
  const after = reduceQa(before, { type: "question", question: question("q1", { upvotes: 2 }) });
  assert.notEqual(after, before);
  assert.equal(before.questions.get("q1"), held);
  assert.equal(held.upvotes, 1);
  assert.equal(reduceQa(after, { type: "question", question: question("q1", { upvotes: 2 }) }), after);
  assert.equal(reduceQa(after, { type: "qa", moderation: false, open: true, highlight: null, stage: "poll" }), after);
  assert.equal(reduceQa(after, { type: "results", poll: "p1" }), after);
  assert.equal(reduceQa(after, null), after);
  assert.equal(reduceQa(after, { type: "question", question: { id: 3 } }), after);
});

test("nobody upvotes a question with no upvotes: upvoted goes with the count", () => {
  let qa = welcomed([question("q1", { upvotes: 1, upvoted: true })]);
  qa = reduceQa(qa, { type: "question", question: question("q1", { upvotes: 0 }) });
  assert.equal(qa.questions.get("q1").upvoted, false);
});

test("asked is this voter's own question, waiting or published", () => {
  let qa = welcomed([], { moderation: true });
  qa = reduceQa(qa, { type: "asked", question: question("q1", { state: "waiting", mine: true, upvoted: false }), ref: "r1" });
  assert.equal(qa.questions.get("q1").mine, true);
  assert.equal(qa.questions.get("q1").state, "waiting");
  // The broadcast of the same question (no mine/upvoted) keeps it this voter's.
  qa = reduceQa(qa, { type: "question", question: question("q1", { state: "published" }) });
  assert.equal(qa.questions.get("q1").mine, true);
  assert.equal(qa.questions.get("q1").state, "published");
});

test("the broadcast may come before the asked reply: the reply still makes it mine", () => {
  let qa = welcomed([]);
  qa = reduceQa(qa, { type: "question", question: question("q1") });
  assert.equal(qa.questions.get("q1").mine, false);
  qa = reduceQa(qa, { type: "asked", question: question("q1"), ref: "r1" });
  assert.equal(qa.questions.get("q1").mine, true);
});

test("the hello reply marks this voter's questions and upvotes; the others lose their marks", () => {
  // A page's welcome comes before its hello: nothing is marked yet.
  let qa = welcomed([question("q1", { upvotes: 1 }), question("q2", { upvotes: 1 }), question("q3", { upvotes: 2, upvoted: true })]);
  // Its own waiting question arrives with the hello, before the reply.
  qa = reduceQa(qa, { type: "question", question: question("q4", { state: "waiting" }) });
  qa = reduceQa(qa, { type: "hello", voter: "v", admin: false, choices: {}, qa: { mine: ["q1", "q4"], upvoted: ["q2"] }, ref: "hello" });
  assert.deepEqual([...qa.questions.values()].map((q) => [q.id, q.mine, q.upvoted]), [
    ["q1", true, false], ["q2", false, true], ["q3", false, false], ["q4", true, false]
  ]);
  // The same marks again (a hello checking the connection) change nothing.
  assert.equal(reduceQa(qa, { type: "hello", qa: { mine: ["q1", "q4"], upvoted: ["q2"] } }), qa);
  // A hello without marks (an older server), or broken ones, keeps what is held, or marks nothing.
  assert.equal(reduceQa(qa, { type: "hello", voter: "v", admin: false }), qa);
  const broken = reduceQa(qa, { type: "hello", qa: { mine: "q1", upvoted: null } });
  assert.equal([...broken.questions.values()].some((q) => q.mine || q.upvoted), false);
});

test("upvoted replies set this voter's flag and the count", () => {
  let qa = welcomed([question("q1", { upvotes: 3 })]);
  qa = reduceQa(qa, { type: "upvoted", question: "q1", upvoted: true, upvotes: 4, ref: "r2" });
  assert.equal(qa.questions.get("q1").upvoted, true);
  assert.equal(qa.questions.get("q1").upvotes, 4);
  qa = reduceQa(qa, { type: "upvoted", question: "q1", upvoted: false, upvotes: 3, ref: "r3" });
  assert.equal(qa.questions.get("q1").upvoted, false);
  assert.equal(qa.questions.get("q1").upvotes, 3);
  assert.equal(reduceQa(qa, { type: "upvoted", question: "q9", upvoted: true, upvotes: 1 }), qa);
  assert.equal(reduceQa(qa, { type: "upvoted", question: "q1" }), qa);
});

test("one's own question is never upvoted by oneself", () => {
  const qa = welcomed([question("q1", { upvotes: 2, mine: true, upvoted: true })]);
  assert.equal(qa.questions.get("q1").upvoted, false);
  assert.equal(canUpvote(qa.questions.get("q1")), false);
});

test("question_removed drops a question; an unknown one changes nothing", () => {
  const before = welcomed([question("q1"), question("q2")]);
  const after = reduceQa(before, { type: "question_removed", question: "q1" });
  assert.deepEqual([...after.questions.keys()], ["q2"]);
  assert.equal(reduceQa(after, { type: "question_removed", question: "q1" }), after);
});

test("qa messages change the settings, each checked", () => {
  let qa = welcomed([question("q1")]);
  qa = reduceQa(qa, { type: "qa", moderation: true, open: false, highlight: "q1", stage: "qa" });
  assert.deepEqual([qa.moderation, qa.open, qa.highlight, qa.stage], [true, false, "q1", "qa"]);
  qa = reduceQa(qa, { type: "qa", highlight: null, stage: "nonsense" });
  assert.equal(qa.highlight, null);
  assert.equal(qa.stage, "qa");
  assert.equal(qa.open, false);
});

// Sorting and grouping -------------------------------------------------------------------

test("popular: most upvotes first, ties oldest first; recent: newest first", () => {
  const list = [
    question("q1", { upvotes: 1 }),
    question("q2", { upvotes: 3 }),
    question("q3", { upvotes: 1 }),
    question("q4", { upvotes: 0 }),
    question("q5", { upvotes: 3 })
  ];
  assert.deepEqual(ids(sortQuestions(list, "popular")), ["q2", "q5", "q1", "q3", "q4"]);
  assert.deepEqual(ids(sortQuestions(list, "recent")), ["q5", "q4", "q3", "q2", "q1"]);
  assert.deepEqual(ids(list), ["q1", "q2", "q3", "q4", "q5"]); // a new array: the input keeps its order
});

test("questions asked in the same second sort by id number, q10 after q9", () => {
  const list = [question("q10", { asked_at: 5 }), question("q9", { asked_at: 5 })];
  assert.deepEqual(ids(sortQuestions(list, "popular")), ["q9", "q10"]);
  assert.deepEqual(ids(sortQuestions(list, "recent")), ["q10", "q9"]);
});

test("an unknown order sorts as popular", () => {
  const list = [question("q1"), question("q2", { upvotes: 1 })];
  assert.deepEqual(ids(sortQuestions(list, "loudest")), ["q2", "q1"]);
});

test("groups: waiting oldest first, published and answered in the order, dismissed apart", () => {
  const qa = welcomed([
    question("q1", { upvotes: 1 }),
    question("q2", { state: "waiting" }),
    question("q3", { upvotes: 4 }),
    question("q4", { state: "answered", upvotes: 1, answered_at: 2000 }),
    question("q5", { state: "answered", upvotes: 2, answered_at: 2001 }),
    question("q6", { state: "dismissed" }),
    question("q7", { state: "waiting" }),
    question("q8", { state: "deleted?" })
  ]);
  const popular = groupQuestions(qa, "popular");
  assert.deepEqual(ids(popular.waiting), ["q2", "q7"]);
  assert.deepEqual(ids(popular.published), ["q3", "q1"]);
  assert.deepEqual(ids(popular.answered), ["q5", "q4"]);
  assert.deepEqual(ids(popular.dismissed), ["q6"]);
  const recent = groupQuestions(qa, "recent");
  assert.deepEqual(ids(recent.published), ["q3", "q1"]);
  assert.deepEqual(ids(recent.answered), ["q5", "q4"]);
  assert.deepEqual(ids(recent.waiting), ["q2", "q7"]);
});

test("the highlight is shown while the question is published", () => {
  let qa = welcomed([question("q1"), question("q2", { state: "answered" })], { highlight: "q1" });
  assert.equal(highlighted(qa).id, "q1");
  qa = reduceQa(qa, { type: "question", question: question("q1", { state: "answered" }) });
  assert.equal(highlighted(qa), null);
  assert.equal(highlighted(reduceQa(qa, { type: "qa", highlight: "q2" })), null);
  assert.equal(highlighted(reduceQa(qa, { type: "qa", highlight: "q9" })), null);
  assert.equal(highlighted(initialQa()), null);
});

test("only others' published questions can be upvoted", () => {
  assert.equal(canUpvote(question("q1")), true);
  assert.equal(canUpvote(question("q1", { mine: true })), false);
  assert.equal(canUpvote(question("q1", { state: "answered" })), false);
  assert.equal(canUpvote(question("q1", { state: "waiting" })), false);
});

test("unseen counts others' visible questions not seen yet", () => {
  const qa = welcomed([
    question("q1"),
    question("q2", { mine: true }),
    question("q3", { state: "answered" }),
    question("q4", { state: "waiting" }),
    question("q5")
  ]);
  assert.equal(unseenCount(qa, new Set()), 3);
  assert.equal(unseenCount(qa, new Set(["q1", "q3"])), 1);
  assert.equal(unseenCount(qa, new Set(["q1", "q3", "q5"])), 0);
});

// Checks on what is typed ------------------------------------------------------------------

test("text is cleaned as the server does: NFKC, no format characters, whitespace collapsed", () => {
  assert.equal(cleanText("  Why\n\n the   delay?\t"), "Why the delay?");
  assert.equal(cleanText("ﬁne\u200b day\u00a0now"), "fine day now");
  assert.equal(cleanText("\u200b\u2060 \u00ad"), "");
});

test("length counts characters as the server does (an emoji is one)", () => {
  assert.equal(textLength("😀😀"), 2);
  assert.equal(textLength("a   b"), 3);
});

test("a question is 1 to 280 characters once cleaned", () => {
  assert.equal(checkQuestion("   ").problem, "empty");
  assert.equal(checkQuestion("\u200b").problem, "empty");
  assert.equal(checkQuestion("\u0301\u0308").problem, "empty"); // combining marks alone show nothing
  assert.equal(checkQuestion("?").problem, null);
  assert.equal(checkQuestion("Why?").problem, null);
  assert.equal(checkQuestion("x".repeat(QUESTION_LENGTH)).problem, null);
  assert.equal(checkQuestion("x".repeat(QUESTION_LENGTH + 1)).problem, "long");
  // Whitespace that collapses does not count against the limit.
  const spaced = "x ".repeat(140) + "      ";
  assert.equal(checkQuestion(spaced).length, 279);
  assert.equal(checkQuestion(spaced).problem, null);
  assert.equal(checkQuestion("😀".repeat(QUESTION_LENGTH)).problem, null);
});

test("a name is optional: blank is anonymous, over 40 characters too long", () => {
  assert.deepEqual(checkName(""), { name: null, problem: null });
  assert.deepEqual(checkName("   "), { name: null, problem: null });
  assert.deepEqual(checkName(null), { name: null, problem: null });
  assert.deepEqual(checkName("\u0301"), { name: null, problem: null });
  assert.deepEqual(checkName("  Ann   Lee "), { name: "Ann Lee", problem: null });
  assert.equal(checkName("n".repeat(NAME_LENGTH)).problem, null);
  assert.equal(checkName("n".repeat(NAME_LENGTH + 1)).problem, "long");
});

test("every Q&A error code has words of its own; unknown codes a fallback", () => {
  const codes = ["bad_question", "duplicate_question", "qa_closed", "unknown_question", "own_question", "question_answered", "too_many_questions"];
  const texts = codes.map((code) => qaErrorText({ type: "error", code }));
  assert.equal(new Set(texts).size, codes.length);
  assert.match(qaErrorText("qa_closed"), /closed/);
  assert.match(qaErrorText({ code: "something_new" }), /try again/);
});

test("a questions message updates each question it carries", () => {
  let qa = reduceQa(initialQa(), {
    type: "welcome",
    qa: { moderation: false, open: true, highlight: null, stage: "poll", questions: [
      { id: "q1", text: "One", name: null, upvotes: 1, state: "published", asked_at: 1, answered_at: null, upvoted: true, mine: false },
      { id: "q2", text: "Two", name: null, upvotes: 0, state: "published", asked_at: 2, answered_at: null, upvoted: false, mine: true },
    ] },
  });
  qa = reduceQa(qa, { type: "hello", qa: { mine: ["q2"], upvoted: ["q1"] } });
  qa = reduceQa(qa, { type: "questions", questions: [
    { id: "q1", text: "One", name: null, upvotes: 5, state: "published", asked_at: 1, answered_at: null },
    { id: "q2", text: "Two", name: null, upvotes: 3, state: "answered", asked_at: 2, answered_at: 9 },
    { nonsense: true },
  ] });
  assert.equal(qa.questions.get("q1").upvotes, 5);
  assert.equal(qa.questions.get("q1").upvoted, true);  // this voter's marks are kept
  assert.equal(qa.questions.get("q2").state, "answered");
  assert.equal(qa.questions.get("q2").mine, true);
  assert.equal(qa.questions.size, 2);
});
