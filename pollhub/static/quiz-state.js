/* pollhub: quiz state in the pages, the pure reducer that applies the
 * server's quiz messages to it, and the helpers both pages share (ranks in
 * words, leaderboard moves, nickname checks, a question's phase). No DOM:
 * it runs in the browser and under Node.js's test runner alike.
 *
 * The state (replaced, never changed in place; reduceQuiz returns the same
 * object when a message changes nothing):
 *   nickname      this voter's nickname, or null (the hello reply, a
 *                 "nickname" reply or a rename, the welcome's quiz.me)
 *   renamed       true once the presenter renamed this voter (until they pick one)
 *   polls         Map id -> quiz poll as the protocol sends it (kind "quiz")
 *   answers       poll id -> this voter's answer (an option id, or ids when
 *                 the question has several correct options)
 *   scores        poll id -> this voter's "score" message for that question
 *   me            {nickname, total, rank, of} or null
 *   leaderboard   the top entries [{nickname, score, rank, moved}]
 *   participants  how many are on the leaderboard
 *   podium        the top three entries
 *   stage         what the stage shows ("poll", "qa", "leaderboard", "podium")
 *
 * Messages: "welcome" (its "quiz" part, {top or leaderboard, podium,
 * participants, me}, and its quiz polls start over; answers are kept until
 * the hello reply, which follows it, gives them), "hello" (nickname,
 * choices and "score": this voter's {nickname, total, rank, of} or null), "nickname", "poll", "deleted", "voted"
 * (the direct reply to a vote), "score", "leaderboard" and "qa" (the stage).
 */

import { without } from "./state.js";
import { cleanText, hasVisible } from "./qa-state.js";

export const QUIZ_KIND = "quiz";
export const NICKNAME_LENGTH = Object.freeze([2, 20]); // characters in a nickname, fewest and most
export const TIME_LIMIT = Object.freeze([5, 300]); // seconds a question runs, shortest and longest
export const TIME_LIMIT_DEFAULT = 20;
export const PODIUM_SIZE = 3;
export const QUIZ_STAGES = Object.freeze(["leaderboard", "podium"]);

/* What the pages say for each quiz error code of the protocol. */
export const QUIZ_ERRORS = Object.freeze({
  bad_nickname: "A nickname needs " + NICKNAME_LENGTH[0] + " to " + NICKNAME_LENGTH[1] + " characters.",
  nickname_taken: "Someone already plays under that nickname.",
  nickname_required: "Pick a nickname first.",
  vote_locked: "Your answer is locked in: one answer per question.",
  poll_closed: "Time is up for this question.",
  unknown_poll: "This question is no longer available.",
  unknown_option: "That option is no longer available.",
  invalid_vote: "Pick an answer first.",
  rate_limited: "Whoa, that was fast! Slow down a little.",
  unavailable: "The server is busy. Please try again."
});

/* Plain words for an error reply (or a code), with a fallback for codes the page does not know. */
export function quizErrorText(reply) {
  const code = reply && typeof reply === "object" ? reply.code : reply;
  return QUIZ_ERRORS[code] || "That did not work. Please try again.";
}

export function initialQuiz() {
  return {
    nickname: null,
    renamed: false,
    polls: new Map(),
    answers: {},
    scores: {},
    me: null,
    leaderboard: [],
    participants: 0,
    podium: [],
    stage: "poll"
  };
}

export function isQuiz(poll) {
  return !!poll && typeof poll === "object" && poll.kind === QUIZ_KIND;
}

function isName(name) {
  return typeof name === "string" && name.length > 0;
}

function isEntry(entry) {
  return !!entry && typeof entry === "object" && isName(entry.nickname) && typeof entry.score === "number" && typeof entry.rank === "number";
}

function entries(list) {
  return Array.isArray(list) ? list.filter(isEntry) : [];
}

function readMe(me) {
  if (!me || typeof me !== "object" || !isName(me.nickname)) return null;
  return { nickname: me.nickname, total: typeof me.total === "number" ? me.total : 0, rank: typeof me.rank === "number" ? me.rank : null, of: typeof me.of === "number" ? me.of : null };
}

/* An answer as a vote or a choice gives it: an option id, or a list of ids. */
function isAnswer(answer) {
  return typeof answer === "string" || (Array.isArray(answer) && answer.length > 0 && answer.every((id) => typeof id === "string"));
}

/* Whether a poll message says the question's answers are gone: its reset
   count moved on (a reset question, or a reset quiz), or its reveal was undone. */
function wasReset(poll, before) {
  if (!before) return false;
  if (typeof poll.resets === "number" && typeof before.resets === "number" && poll.resets !== before.resets) return true;
  return before.answer_revealed === true && poll.answer_revealed !== true;
}

/* The poll as held, marked "ran" once the page saw it run and close (a
   question nobody answered carries nothing else that says it ran). */
function marked(poll, before) {
  const ran = !!before && !poll.open && poll.answer_revealed !== true && (before.open === true || before.ran === true);
  return ran ? Object.assign({}, poll, { ran: true }) : poll;
}

function forgetPoll(quiz, pollId) {
  const answers = without(quiz.answers, pollId);
  const scores = without(quiz.scores, pollId);
  if (answers === quiz.answers && scores === quiz.scores) return quiz;
  return Object.assign({}, quiz, { answers, scores });
}

function withPoll(quiz, poll) {
  const before = quiz.polls.get(poll.id);
  const reset = wasReset(poll, before);
  const held = reset ? poll : marked(poll, before);
  const next = Object.assign({}, quiz, { polls: new Map(quiz.polls).set(poll.id, held) });
  return reset ? forgetPoll(next, poll.id) : next;
}

/* The quiz state after a welcome: its quiz part, its quiz polls; the answers
   and scores of questions it still holds (a reconnect), until the hello reply. */
function welcome(quiz, message) {
  const sent = message.quiz && typeof message.quiz === "object" ? message.quiz : {};
  const polls = new Map();
  (Array.isArray(message.polls) ? message.polls : []).forEach((poll) => {
    if (!isQuiz(poll) || typeof poll.id !== "string") return;
    const before = quiz.polls.get(poll.id);
    polls.set(poll.id, before && !wasReset(poll, before) ? marked(poll, before) : poll);
  });
  const keep = (object) => {
    const kept = {};
    Object.keys(object).forEach((id) => {
      if (polls.has(id) && !wasReset(polls.get(id), quiz.polls.get(id))) kept[id] = object[id];
    });
    return kept;
  };
  const leaderboard = entries(sent.leaderboard !== undefined ? sent.leaderboard : sent.top); // "top", as in a leaderboard message
  const me = readMe(sent.me);
  const qa = message.qa && typeof message.qa === "object" ? message.qa : {};
  return Object.assign(initialQuiz(), {
    nickname: me ? me.nickname : quiz.nickname,
    renamed: quiz.renamed,
    polls,
    answers: keep(quiz.answers),
    scores: keep(quiz.scores),
    me,
    leaderboard,
    participants: typeof sent.participants === "number" ? sent.participants : leaderboard.length,
    podium: Array.isArray(sent.podium) ? entries(sent.podium) : leaderboard.slice(0, PODIUM_SIZE),
    stage: typeof qa.stage === "string" ? qa.stage : "poll"
  });
}

/* This voter's quiz answers among the hello reply's choices. */
function helloAnswers(quiz, choices) {
  const answers = {};
  if (choices && typeof choices === "object") {
    Object.keys(choices).forEach((id) => {
      if (quiz.polls.has(id) && isAnswer(choices[id])) answers[id] = choices[id];
    });
  }
  return answers;
}

function readScore(message) {
  const number = (n) => (typeof n === "number" ? n : 0);
  return {
    points: number(message.points),
    correct: message.correct === true,
    answered: message.answered === true,
    total: number(message.total),
    rank: typeof message.rank === "number" ? message.rank : null,
    of: typeof message.of === "number" ? message.of : null
  };
}

/* This voter's place as a leaderboard gives it: their entry when they are
   in the top, else what was held; an empty board (a reset quiz) takes their points. */
function placeIn(quiz, top, participants) {
  const nickname = quiz.nickname || (quiz.me && quiz.me.nickname);
  if (!nickname) return quiz.me;
  const mine = top.find((entry) => entry.nickname === nickname);
  if (mine) return { nickname, total: mine.score, rank: mine.rank, of: participants };
  if (top.length === 0) return { nickname, total: 0, rank: null, of: null };
  return quiz.me;
}

/* The quiz state after one message from the server (or a direct reply). */
export function reduceQuiz(quiz, message) {
  if (!message || typeof message !== "object") return quiz;
  switch (message.type) {
    case "welcome":
      return welcome(quiz, message);
    case "hello": {
      const next = Object.assign({}, quiz, { answers: helloAnswers(quiz, message.choices) });
      if ("nickname" in message) next.nickname = isName(message.nickname) ? message.nickname : null;
      const me = readMe(message.score !== undefined ? message.score : message.me); // this voter's place
      if (me || "score" in message || "me" in message) next.me = me;
      return next;
    }
    case "nickname": {
      if (!isName(message.nickname)) return quiz;
      const me = quiz.me ? Object.assign({}, quiz.me, { nickname: message.nickname }) : null;
      return Object.assign({}, quiz, { nickname: message.nickname, renamed: message.renamed === true, me });
    }
    case "poll":
      return isQuiz(message.poll) && typeof message.poll.id === "string" ? withPoll(quiz, message.poll) : quiz;
    case "deleted": {
      if (!quiz.polls.has(message.poll)) return quiz;
      const polls = new Map(quiz.polls);
      polls.delete(message.poll);
      return forgetPoll(Object.assign({}, quiz, { polls }), message.poll);
    }
    case "voted": {
      if (!quiz.polls.has(message.poll)) return quiz;
      const answer = message.options !== undefined ? message.options : message.option;
      if (!isAnswer(answer)) return quiz;
      return Object.assign({}, quiz, { answers: Object.assign({}, quiz.answers, { [message.poll]: answer }) });
    }
    case "score": {
      if (typeof message.poll !== "string") return quiz;
      const score = readScore(message);
      const nickname = quiz.nickname || (quiz.me && quiz.me.nickname);
      const me = nickname ? { nickname, total: score.total, rank: score.rank, of: score.of } : quiz.me;
      return Object.assign({}, quiz, { scores: Object.assign({}, quiz.scores, { [message.poll]: score }), me });
    }
    case "leaderboard": {
      const top = entries(message.top);
      const participants = typeof message.participants === "number" ? message.participants : top.length;
      const me = placeIn(quiz, top, participants);
      const podium = Array.isArray(message.podium) ? entries(message.podium) : top.slice(0, PODIUM_SIZE);
      return Object.assign({}, quiz, { leaderboard: top, participants, podium, me });
    }
    case "qa":
      return typeof message.stage === "string" && message.stage !== quiz.stage ? Object.assign({}, quiz, { stage: message.stage }) : quiz;
    default:
      return quiz;
  }
}

// A question's phase and its answer ---------------------------------------------------

/* Where a quiz question is: "ready" (not run yet), "running" (its timer
   runs), "closed" (ran, answer not revealed) or "revealed". A closed
   question that has answers, or that the server marks as run, ran. */
export function quizPhase(poll) {
  if (!poll) return "ready";
  if (poll.answer_revealed === true) return "revealed";
  if (poll.open) return "running";
  const ran = poll.ran === true || (typeof poll.voters === "number" && poll.voters > 0) || (typeof poll.total === "number" && poll.total > 0);
  return ran ? "closed" : "ready";
}

/* The phase of a poll as the page holds it (state.js), with what the quiz
   state knows of it: that the page saw it run. */
export function questionPhase(quiz, poll) {
  const held = poll ? quiz.polls.get(poll.id) : null;
  if (held && held.ran === true && !poll.open && poll.answer_revealed !== true) return "closed";
  return quizPhase(poll);
}

/* The ids of an answer, as a list. */
export function answerIds(answer) {
  if (Array.isArray(answer)) return answer.slice();
  return typeof answer === "string" ? [answer] : [];
}

/* Whether an answer is exactly the question's correct set (false while `correct` is unknown). */
export function isRightAnswer(poll, answer) {
  if (!poll || !Array.isArray(poll.correct) || poll.correct.length === 0) return false;
  const given = new Set(answerIds(answer));
  return given.size === poll.correct.length && poll.correct.every((id) => given.has(id));
}

/* What this voter made of a revealed question: "right", "wrong" or
   "missed" (no answer); null before the reveal. The score message, when
   there is one, is the server's word on it. */
export function outcome(poll, answer, score) {
  if (quizPhase(poll) !== "revealed") return null;
  if (score) return score.correct ? "right" : score.answered ? "wrong" : "missed";
  if (answer === undefined || answer === null) return "missed";
  return isRightAnswer(poll, answer) ? "right" : "wrong";
}

/* The labels of the correct options, in the poll's order ("" while unknown). */
export function correctLabels(poll) {
  if (!poll || !Array.isArray(poll.correct)) return "";
  return (poll.options || []).filter((o) => poll.correct.indexOf(o.id) >= 0).map((o) => o.label).join(", ");
}

// Ranks and moves ---------------------------------------------------------------------

/* "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "102nd". */
export function ordinal(n) {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return n + "th";
  switch (n % 10) {
    case 1: return n + "st";
    case 2: return n + "nd";
    case 3: return n + "rd";
    default: return n + "th";
  }
}

/* "12th of 148" ("" without a rank). */
export function rankText(rank, of) {
  if (typeof rank !== "number" || rank < 1) return "";
  return typeof of === "number" && of > 0 ? ordinal(rank) + " of " + of : ordinal(rank);
}

/* A leaderboard move for showing: {dir, text, label}. dir is "up", "down",
   "same" or "new" (moved null: a newcomer); text is what the arrow says
   ("▲ 2", "▼ 1", "–", "New"); label says it in words for a screen reader. */
export function moveOf(moved) {
  if (moved === null || moved === undefined) return { dir: "new", text: "New", label: "new on the board" };
  if (typeof moved !== "number" || moved === 0) return { dir: "same", text: "–", label: "same place" };
  const n = Math.abs(moved);
  const places = n === 1 ? "1 place" : n + " places";
  return moved > 0 ? { dir: "up", text: "▲ " + n, label: "up " + places } : { dir: "down", text: "▼ " + n, label: "down " + places };
}

/* The podium in the order it stands: second, first, third (those there are). */
export function podiumOrder(podium) {
  const top = podium.slice(0, PODIUM_SIZE);
  if (top.length < 2) return top;
  return [top[1], top[0]].concat(top.slice(2));
}

/* "1 point", "820 points". */
export function pointsText(n) {
  return n + (n === 1 ? " point" : " points");
}

// Nicknames -----------------------------------------------------------------------------

/* What two nicknames are compared by: the nickname cleaned as the server
   cleans it (qa-state.js's cleanText, as for a question's text), lower case. */
export function nicknameKey(text) {
  return cleanText(text).toLowerCase();
}

/* A nickname as typed: {nickname, length, problem}; problem is null,
   "short" (fewer than 2 characters once cleaned, or nothing that shows) or "long". */
export function checkNickname(text, range = NICKNAME_LENGTH) {
  const nickname = cleanText(text || "");
  const length = Array.from(nickname).length;
  const problem = length < range[0] || !hasVisible(nickname) ? "short" : length > range[1] ? "long" : null;
  return { nickname, length, problem };
}

const ADJECTIVES = ["Swift", "Brave", "Clever", "Lucky", "Sunny", "Quiet", "Bold", "Happy", "Mighty", "Witty", "Calm", "Eager"];
const ANIMALS = ["Otter", "Falcon", "Panda", "Fox", "Koala", "Lynx", "Heron", "Badger", "Gecko", "Puffin", "Walrus", "Owl"];

/* A nickname to offer, such as "Swift Otter 42"; random() is a source like
   Math.random (values in [0, 1)), so a test can pass a fixed one. */
export function suggestNickname(random = Math.random) {
  const pick = (list) => list[Math.floor(random() * list.length) % list.length];
  return pick(ADJECTIVES) + " " + pick(ANIMALS) + " " + (10 + Math.floor(random() * 90));
}

/* A whole number of seconds from a time limit field's text: {seconds, problem}
   (empty is the default, 20; problem null or the words to show). */
export function checkTimeLimit(text, range = TIME_LIMIT) {
  const typed = String(text === undefined || text === null ? "" : text).trim();
  if (!typed) return { seconds: TIME_LIMIT_DEFAULT, problem: null };
  const n = Number(typed);
  if (!Number.isInteger(n) || n < range[0] || n > range[1]) return { seconds: null, problem: "A question runs " + range[0] + " to " + range[1] + " seconds." };
  return { seconds: n, problem: null };
}
