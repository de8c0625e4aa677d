// The pages' quiz reducer and helpers (pollhub/static/quiz-state.js): node --test tests/js/
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  initialQuiz, reduceQuiz, quizPhase, questionPhase, isRightAnswer, outcome, correctLabels, ordinal, rankText, moveOf,
  podiumOrder, pointsText, checkNickname, nicknameKey, suggestNickname, checkTimeLimit, quizErrorText
} from "../../pollhub/static/quiz-state.js";

function quizPoll(id, extra) {
  return Object.assign({
    id, kind: "quiz", question: "Capital of France?", open: false, changes: "locked", results: "after_close",
    options: [{ id: "a", label: "Paris" }, { id: "b", label: "Lyon" }, { id: "c", label: "Nice" }],
    time_limit: 20, multiple: false, answer_revealed: false
  }, extra);
}

function entry(nickname, score, rank, moved) {
  return { nickname, score, rank, moved };
}

function welcomed(polls, quiz, extra) {
  return reduceQuiz(initialQuiz(), Object.assign({ type: "welcome", polls, current: null, quiz }, extra));
}

// The reducer -------------------------------------------------------------------------------

test("a welcome takes the quiz polls, the leaderboard, the podium and this voter's place", () => {
  const top = [entry("Ann", 1800, 1, 0), entry("bob", 900, 2, 1), entry("Cy", 900, 2, null), entry("Di", 10, 4, -2)];
  const quiz = welcomed([quizPoll("p1"), { id: "p2", kind: "single", options: [] }], {
    leaderboard: top, participants: 148, podium: top.slice(0, 3), me: { nickname: "Cy", total: 900, rank: 2, of: 148 }
  }, { qa: { stage: "podium" } });
  assert.deepEqual(Array.from(quiz.polls.keys()), ["p1"]);
  assert.equal(quiz.leaderboard.length, 4);
  assert.equal(quiz.participants, 148);
  assert.deepEqual(quiz.podium.map((e) => e.nickname), ["Ann", "bob", "Cy"]);
  assert.deepEqual(quiz.me, { nickname: "Cy", total: 900, rank: 2, of: 148 });
  assert.equal(quiz.nickname, "Cy");
  assert.equal(quiz.stage, "podium");
});

test("a welcome without a quiz part (an older server) has an empty leaderboard", () => {
  const quiz = welcomed([], undefined);
  assert.deepEqual(quiz.leaderboard, []);
  assert.equal(quiz.participants, 0);
  assert.equal(quiz.me, null);
  assert.equal(quiz.stage, "poll");
});

test("malformed leaderboard entries are left out", () => {
  const quiz = welcomed([], { leaderboard: [entry("Ann", 5, 1, 0), { nickname: 3 }, null, entry("", 1, 2, 0)] });
  assert.deepEqual(quiz.leaderboard.map((e) => e.nickname), ["Ann"]);
});

test("the hello reply gives the nickname and this voter's quiz answers only", () => {
  let quiz = welcomed([quizPoll("p1"), quizPoll("p2", { multiple: true })], {});
  quiz = reduceQuiz(quiz, { type: "hello", admin: false, nickname: "Zed", choices: { p1: "b", p2: ["a", "c"], p9: "x", p3: 4 } });
  assert.equal(quiz.nickname, "Zed");
  assert.deepEqual(quiz.answers, { p1: "b", p2: ["a", "c"] });
  quiz = reduceQuiz(quiz, { type: "hello", admin: false, nickname: null, choices: {} });
  assert.equal(quiz.nickname, null);
  assert.deepEqual(quiz.answers, {});
});

test("a reconnect keeps answers and scores until the hello reply", () => {
  let quiz = welcomed([quizPoll("p1", { open: true })], {});
  quiz = reduceQuiz(quiz, { type: "voted", poll: "p1", option: "a" });
  quiz = welcomed([quizPoll("p1", { open: true })], {});
  const again = reduceQuiz(quiz, { type: "welcome", polls: [quizPoll("p1", { open: true })], quiz: {} });
  assert.deepEqual(again.answers, {}); // a fresh state: nothing to keep
  let held = reduceQuiz(welcomed([quizPoll("p1", { open: true })], {}), { type: "voted", poll: "p1", option: "a" });
  held = reduceQuiz(held, { type: "welcome", polls: [quizPoll("p1", { open: true })], quiz: {} });
  assert.deepEqual(held.answers, { p1: "a" });
  held = reduceQuiz(held, { type: "welcome", polls: [], quiz: {} });
  assert.deepEqual(held.answers, {}); // the question is gone
});

test("a nickname reply sets it, and a rename is marked", () => {
  let quiz = welcomed([], { me: { nickname: "Ann", total: 10, rank: 1, of: 1 } });
  quiz = reduceQuiz(quiz, { type: "nickname", nickname: "Annie" });
  assert.equal(quiz.nickname, "Annie");
  assert.equal(quiz.renamed, false);
  assert.equal(quiz.me.nickname, "Annie");
  quiz = reduceQuiz(quiz, { type: "nickname", nickname: "Player 7", renamed: true });
  assert.equal(quiz.nickname, "Player 7");
  assert.equal(quiz.renamed, true);
  assert.equal(reduceQuiz(quiz, { type: "nickname", nickname: "" }), quiz);
});

test("a vote reply keeps the answer, one id or several", () => {
  let quiz = welcomed([quizPoll("p1"), quizPoll("p2", { multiple: true })], {});
  quiz = reduceQuiz(quiz, { type: "voted", poll: "p1", option: "b" });
  quiz = reduceQuiz(quiz, { type: "voted", poll: "p2", options: ["a", "c"] });
  assert.deepEqual(quiz.answers, { p1: "b", p2: ["a", "c"] });
  assert.equal(reduceQuiz(quiz, { type: "voted", poll: "nope", option: "a" }), quiz); // not a quiz
});

test("a score message is kept per question and updates this voter's place", () => {
  let quiz = reduceQuiz(welcomed([quizPoll("p1")], {}), { type: "nickname", nickname: "Ann" });
  quiz = reduceQuiz(quiz, { type: "score", poll: "p1", points: 850, correct: true, answered: true, total: 1700, rank: 12, of: 148 });
  assert.deepEqual(quiz.scores.p1, { points: 850, correct: true, answered: true, total: 1700, rank: 12, of: 148 });
  assert.deepEqual(quiz.me, { nickname: "Ann", total: 1700, rank: 12, of: 148 });
});

test("a leaderboard message replaces the board and the podium", () => {
  let quiz = welcomed([], {});
  quiz = reduceQuiz(quiz, { type: "leaderboard", poll: "p1", top: [entry("A", 3, 1, 2), entry("B", 2, 2, -1), entry("C", 1, 3, 0), entry("D", 0, 4, null)], participants: 30 });
  assert.equal(quiz.participants, 30);
  assert.deepEqual(quiz.podium.map((e) => e.nickname), ["A", "B", "C"]);
  assert.equal(quiz.leaderboard[3].moved, null);
});

test("an empty leaderboard (a reset quiz) takes this voter's points away", () => {
  let quiz = welcomed([], { me: { nickname: "Ann", total: 900, rank: 1, of: 3 } });
  quiz = reduceQuiz(quiz, { type: "leaderboard", top: [], participants: 0 });
  assert.deepEqual(quiz.me, { nickname: "Ann", total: 0, rank: null, of: null });
  assert.deepEqual(quiz.podium, []);
});

test("a question reset (its reset count moves on) or its reveal undone forgets the answer and the score", () => {
  let quiz = welcomed([quizPoll("p1", { open: true, resets: 0 })], {});
  quiz = reduceQuiz(quiz, { type: "voted", poll: "p1", option: "a" });
  quiz = reduceQuiz(quiz, { type: "poll", poll: quizPoll("p1", { open: false, voters: 1, total: 1, resets: 0 }) });
  assert.deepEqual(quiz.answers, { p1: "a" }); // closed, still the same run
  quiz = reduceQuiz(quiz, { type: "poll", poll: quizPoll("p1", { voters: 1, total: 1, resets: 0, answer_revealed: true, correct: ["a"] }) });
  quiz = reduceQuiz(quiz, { type: "score", poll: "p1", points: 900, correct: true, answered: true, total: 900, rank: 1, of: 1 });
  const reset = reduceQuiz(quiz, { type: "poll", poll: quizPoll("p1", { voters: 0, total: 0, resets: 1 }) });
  assert.deepEqual(reset.answers, {});
  assert.deepEqual(reset.scores, {});
  const unrevealed = reduceQuiz(quiz, { type: "poll", poll: quizPoll("p1", { voters: 1, total: 1, resets: 0, answer_revealed: false }) });
  assert.deepEqual(unrevealed.scores, {});
});

test("a question the page saw run and close counts as ran, even with no answers, until it is reset", () => {
  let quiz = welcomed([quizPoll("p1", { resets: 0 })], {});
  const page = quizPoll("p1", { resets: 0, voters: 0, total: 0 });
  assert.equal(questionPhase(quiz, page), "ready");
  quiz = reduceQuiz(quiz, { type: "poll", poll: quizPoll("p1", { open: true, resets: 0 }) });
  quiz = reduceQuiz(quiz, { type: "poll", poll: page });
  assert.equal(questionPhase(quiz, page), "closed");
  quiz = reduceQuiz(quiz, { type: "welcome", polls: [page], quiz: {} }); // a reconnect keeps it
  assert.equal(questionPhase(quiz, page), "closed");
  quiz = reduceQuiz(quiz, { type: "poll", poll: quizPoll("p1", { resets: 1, voters: 0, total: 0 }) });
  assert.equal(questionPhase(quiz, quizPoll("p1", { resets: 1 })), "ready");
});

test("a deleted question is forgotten; other kinds of poll are not held", () => {
  let quiz = welcomed([quizPoll("p1", { open: true })], {});
  quiz = reduceQuiz(quiz, { type: "voted", poll: "p1", option: "a" });
  quiz = reduceQuiz(quiz, { type: "deleted", poll: "p1" });
  assert.equal(quiz.polls.size, 0);
  assert.deepEqual(quiz.answers, {});
  assert.equal(reduceQuiz(quiz, { type: "poll", poll: { id: "p5", kind: "single" } }), quiz);
  assert.equal(reduceQuiz(quiz, { type: "deleted", poll: "p5" }), quiz);
});

test("the stage follows the qa settings", () => {
  const quiz = welcomed([], {});
  const board = reduceQuiz(quiz, { type: "qa", stage: "leaderboard" });
  assert.equal(board.stage, "leaderboard");
  assert.equal(reduceQuiz(board, { type: "qa", open: false }), board);
});

test("unknown messages change nothing", () => {
  const quiz = initialQuiz();
  assert.equal(reduceQuiz(quiz, { type: "presence", participants: 3 }), quiz);
  assert.equal(reduceQuiz(quiz, null), quiz);
});

// Phases and answers ------------------------------------------------------------------------

test("a question's phase: ready, running, closed, revealed", () => {
  assert.equal(quizPhase(quizPoll("p1")), "ready");
  assert.equal(quizPhase(quizPoll("p1", { open: true, closes_in: 12 })), "running");
  assert.equal(quizPhase(quizPoll("p1", { voters: 3, total: 3 })), "closed");
  assert.equal(quizPhase(quizPoll("p1", { ran: true, voters: 0 })), "closed");
  assert.equal(quizPhase(quizPoll("p1", { answer_revealed: true })), "revealed");
  assert.equal(quizPhase(null), "ready");
});

test("an answer is right only when it is exactly the correct set", () => {
  const one = quizPoll("p1", { correct: ["a"] });
  const two = quizPoll("p2", { correct: ["a", "c"], multiple: true });
  assert.equal(isRightAnswer(one, "a"), true);
  assert.equal(isRightAnswer(one, "b"), false);
  assert.equal(isRightAnswer(two, ["c", "a"]), true);
  assert.equal(isRightAnswer(two, ["a"]), false);
  assert.equal(isRightAnswer(two, ["a", "b", "c"]), false);
  assert.equal(isRightAnswer(quizPoll("p3"), "a"), false); // correct not known (before a reveal)
});

test("the outcome shows only once the answer is revealed, and the score message decides", () => {
  const running = quizPoll("p1", { open: true });
  const revealed = quizPoll("p1", { answer_revealed: true, correct: ["a"] });
  assert.equal(outcome(running, "a", null), null);
  assert.equal(outcome(revealed, "a", null), "right");
  assert.equal(outcome(revealed, "b", null), "wrong");
  assert.equal(outcome(revealed, undefined, null), "missed");
  assert.equal(outcome(revealed, "a", { correct: false, answered: true }), "wrong");
  assert.equal(outcome(revealed, undefined, { correct: false, answered: false }), "missed");
});

test("correct labels come in the poll's order", () => {
  assert.equal(correctLabels(quizPoll("p1", { correct: ["c", "a"] })), "Paris, Nice");
  assert.equal(correctLabels(quizPoll("p1")), "");
});

// Ranks and moves ------------------------------------------------------------------------------

test("ordinals in English", () => {
  const cases = { 1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th", 21: "21st", 22: "22nd", 23: "23rd", 101: "101st", 111: "111th", 112: "112th" };
  Object.keys(cases).forEach((n) => assert.equal(ordinal(Number(n)), cases[n]));
});

test("a rank in words: 12th of 148", () => {
  assert.equal(rankText(12, 148), "12th of 148");
  assert.equal(rankText(1, 1), "1st of 1");
  assert.equal(rankText(3, null), "3rd");
  assert.equal(rankText(null, 10), "");
  assert.equal(rankText(0, 10), "");
});

test("leaderboard moves: up, down, the same, new", () => {
  assert.deepEqual(moveOf(2), { dir: "up", text: "▲ 2", label: "up 2 places" });
  assert.deepEqual(moveOf(-1), { dir: "down", text: "▼ 1", label: "down 1 place" });
  assert.equal(moveOf(0).dir, "same");
  assert.equal(moveOf(null).dir, "new");
  assert.equal(moveOf(undefined).dir, "new");
});

test("the podium stands second, first, third", () => {
  const e = (n) => entry(n, 0, 1, 0);
  assert.deepEqual(podiumOrder([e("A"), e("B"), e("C"), e("D")]).map((x) => x.nickname), ["B", "A", "C"]);
  assert.deepEqual(podiumOrder([e("A"), e("B")]).map((x) => x.nickname), ["B", "A"]);
  assert.deepEqual(podiumOrder([e("A")]).map((x) => x.nickname), ["A"]);
  assert.deepEqual(podiumOrder([]), []);
});

test("points in words", () => {
  assert.equal(pointsText(1), "1 point");
  assert.equal(pointsText(0), "0 points");
  assert.equal(pointsText(850), "850 points");
});

// Nicknames and time limits ----------------------------------------------------------------------

test("nicknames: 2 to 20 characters once cleaned", () => {
  assert.deepEqual(checkNickname("  Ann   Lee "), { nickname: "Ann Lee", length: 7, problem: null });
  assert.equal(checkNickname("A").problem, "short");
  assert.equal(checkNickname("  ").problem, "short");
  assert.equal(checkNickname("A\u200b").problem, "short"); // a zero-width space does not count
  assert.equal(checkNickname("x".repeat(20)).problem, null);
  assert.equal(checkNickname("x".repeat(21)).problem, "long");
  assert.equal(checkNickname("😀😀").problem, null); // characters, not UTF-16 units
  assert.equal(checkNickname("Ｚｅｄ").nickname, "Zed"); // NFKC
});

test("nicknames compare ignoring case", () => {
  assert.equal(nicknameKey(" ANN  lee"), nicknameKey("ann Lee"));
});

test("a suggested nickname is a valid one", () => {
  const fixed = () => 0.5;
  assert.equal(suggestNickname(fixed), suggestNickname(fixed));
  for (let i = 0; i < 50; i++) assert.equal(checkNickname(suggestNickname()).problem, null);
  assert.equal(checkNickname(suggestNickname(() => 0.999999)).problem, null);
});

test("time limits: whole seconds 5 to 300, empty is 20", () => {
  assert.deepEqual(checkTimeLimit(""), { seconds: 20, problem: null });
  assert.deepEqual(checkTimeLimit(" 45 "), { seconds: 45, problem: null });
  assert.equal(checkTimeLimit("4").problem, "A question runs 5 to 300 seconds.");
  assert.equal(checkTimeLimit("301").seconds, null);
  assert.equal(checkTimeLimit("7.5").seconds, null);
  assert.equal(checkTimeLimit("soon").seconds, null);
});

test("quiz errors in plain words", () => {
  assert.equal(quizErrorText({ code: "nickname_taken" }), "Someone already plays under that nickname.");
  assert.equal(quizErrorText("vote_locked"), "Your answer is locked in: one answer per question.");
  assert.equal(quizErrorText({ code: "mystery" }), "That did not work. Please try again.");
});

test("the server's names: a welcome's quiz.top and the hello reply's score", () => {
  let quiz = welcomed([quizPoll("p1")], { top: [entry("Ann", 900, 1, null)], podium: [entry("Ann", 900, 1, null)], participants: 1 });
  assert.deepEqual(quiz.leaderboard.map((e) => e.nickname), ["Ann"]);
  assert.equal(quiz.me, null);
  quiz = reduceQuiz(quiz, { type: "hello", nickname: "Ann", choices: {}, score: { nickname: "Ann", total: 900, rank: 1, of: 1 } });
  assert.deepEqual(quiz.me, { nickname: "Ann", total: 900, rank: 1, of: 1 });
  quiz = reduceQuiz(quiz, { type: "hello", nickname: null, choices: {}, score: null });
  assert.equal(quiz.me, null);
  quiz = reduceQuiz(quiz, { type: "leaderboard", poll: null, top: [entry("B", 2, 1, 0), entry("C", 1, 2, 0)], podium: [entry("B", 2, 1, 0)], participants: 2 });
  assert.deepEqual(quiz.podium.map((e) => e.nickname), ["B"]);
});

test("a leaderboard with this voter in it updates their place (a reset quiz leaves everyone at 0)", () => {
  let quiz = reduceQuiz(welcomed([], { me: { nickname: "Ann", total: 900, rank: 1, of: 2 } }), { type: "hello", nickname: "Ann", choices: {} });
  quiz = reduceQuiz(quiz, { type: "leaderboard", poll: null, top: [entry("Ann", 0, 1, 0), entry("Bob", 0, 1, 0)], participants: 2 });
  assert.deepEqual(quiz.me, { nickname: "Ann", total: 0, rank: 1, of: 2 });
  quiz = reduceQuiz(quiz, { type: "leaderboard", poll: "p1", top: [entry("Bob", 50, 1, 0)], participants: 40 });
  assert.deepEqual(quiz.me, { nickname: "Ann", total: 0, rank: 1, of: 2 }); // not in the top: kept until a score says more
});
