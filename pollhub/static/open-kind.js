/* pollhub: the "open" poll kind in the pages (open-ended answers).
 *
 * A voter gives up to max_answers answers (1 by default) of up to 280
 * characters in a text box; the results are the answers themselves, newest
 * first, each with the time it came ("answers": [{text, at}], at in Unix
 * seconds), shown as a wall of cards. The participant page takes its answer
 * box from the words kind (participant.js asks takesAnswers()); this module
 * holds what is the open kind's own: its limits, the character count, how
 * an answer's time is shown, and the wall (with a Hide button on each card
 * for the presenter's stage, as the word cloud has on each word).
 *
 * The helpers above AnswerWall are pure (tests/js/open-kind.test.mjs).
 */

import { formatCount, plural, squash } from "./format.js";
import { DEFAULT_LIMITS } from "./limits.js";

export const OPEN_KIND = "open";
export const OPEN_ANSWERS_DEFAULT = 1; // answers one voter may give, unless the poll says otherwise
const COUNT_WARN = 20; // characters left when the count turns to a warning

/* Whether a poll's votes are typed answers (words and open polls). */
export function takesAnswers(poll) {
  return !!poll && (poll.kind === "words" || poll.kind === OPEN_KIND);
}

/* Characters one answer of the poll may have, from the server's limits (an
   older server's welcome has no open_answer_length: then the default, 280). */
export function answerLimit(poll, limits) {
  if (poll && poll.kind === OPEN_KIND) return typeof limits.open_answer_length === "number" ? limits.open_answer_length : DEFAULT_LIMITS.open_answer_length;
  return limits.answer_length;
}

/* How many answers a new poll of `kind` lets a voter give unless told otherwise. */
export function answersDefault(kind, limits) {
  return kind === OPEN_KIND ? OPEN_ANSWERS_DEFAULT : limits.answers_default;
}

/* The length of an answer as the server counts it: characters (not UTF-16
   units), once runs of white space are collapsed and the ends trimmed. */
export function answerLength(text) {
  return Array.from(squash(text)).length;
}

/* The count under the text box: "12 / 280", and whether it is near or over the limit. */
export function countText(text, limit) {
  const n = answerLength(text);
  return { text: formatCount(n) + " / " + formatCount(limit), over: n > limit, near: n <= limit && limit - n <= COUNT_WARN };
}

/* A poll's answers as held: well-formed ones only, newest first (ties by text, as the server orders them). */
export function newestAnswers(poll) {
  const list = Array.isArray(poll && poll.answers) ? poll.answers : [];
  return list.filter((a) => a && typeof a.text === "string" && typeof a.at === "number" && Number.isFinite(a.at)).slice().sort((a, b) => {
    return b.at - a.at || (a.text < b.text ? 1 : a.text > b.text ? -1 : 0);
  });
}

function twoDigits(n) {
  return (n < 10 ? "0" : "") + n;
}

/* The time an answer came, as the clock on this device shows it: "09:05". */
export function answerTime(at) {
  const date = new Date(at * 1000);
  return twoDigits(date.getHours()) + ":" + twoDigits(date.getMinutes());
}

/* The same time for a <time datetime>: ISO 8601 in UTC. */
export function answerDatetime(at) {
  return new Date(at * 1000).toISOString();
}

/* "Latest answers: …" for a screen reader: the newest three, and how many there are. */
export function summarizeAnswers(poll) {
  const newest = newestAnswers(poll).slice(0, 3).map((a) => "“" + a.text + "”");
  if (!newest.length) return "";
  return "Latest answers: " + newest.join(", ") + ". " + plural(poll.total || 0, "answer", "answers") + " in total.";
}

/* The text a participant or the stage shows under the answers: "3 voters · 4 answers". */
export function answersTotal(poll, voters) {
  return plural(voters, "voter", "voters") + " · " + plural(poll.total || 0, "answer", "answers");
}

// The wall -----------------------------------------------------------------------------

/* A wall of cards in `container`, one per answer, newest first, each with its
   time. options.onPick(text), when given, puts a Hide button on every card
   (the presenter hides answers with it); options.emptyText is shown with no
   answers. Cards are kept by answer and time, so an update only adds,
   removes and moves what changed (and the focus stays where it was). */
export function AnswerWall(container, options) {
  this.container = container;
  this.onPick = (options && options.onPick) || null;
  this.key = null;
  this.cards = new Map(); // "at\u0000text" -> <li>
  this.list = document.createElement("ol");
  this.list.className = "wall";
  this.list.setAttribute("aria-label", this.onPick ? "Answers, newest first: select Hide to take one off every screen" : "Answers, newest first");
  this.empty = document.createElement("p");
  this.empty.className = "wall-empty";
  this.empty.textContent = (options && options.emptyText) || "No answers yet.";
  container.textContent = "";
  container.append(this.list, this.empty);
}

AnswerWall.prototype.update = function (poll) {
  const answers = newestAnswers(poll);
  const keys = answers.map((a) => a.at + "\u0000" + a.text);
  const key = JSON.stringify(keys);
  if (key === this.key) return;
  this.key = key;
  this.empty.hidden = answers.length > 0;
  this.list.hidden = answers.length === 0;
  this.list.dataset.size = answers.length <= 6 ? "large" : answers.length <= 24 ? "medium" : "small";
  const focused = document.activeElement;
  const kept = new Map();
  answers.forEach((answer, index) => {
    const card = this.cards.get(keys[index]) || this.card(answer);
    card.dataset.colour = String(index % 8);
    kept.set(keys[index], card);
  });
  this.cards.forEach((card, cardKey) => {
    if (!kept.has(cardKey)) card.remove();
  });
  keys.forEach((cardKey, index) => {
    const card = kept.get(cardKey);
    if (this.list.children[index] !== card) this.list.insertBefore(card, this.list.children[index] || null);
  });
  this.cards = kept;
  if (focused && focused !== document.activeElement && this.list.contains(focused)) focused.focus();
};

/* One card: the answer, its time, and (for the presenter) a Hide button. */
AnswerWall.prototype.card = function (answer) {
  const card = document.createElement("li");
  card.className = "wall-card";
  card.dataset.text = answer.text;
  const text = document.createElement("p");
  text.className = "wall-text";
  text.textContent = answer.text;
  const time = document.createElement("time");
  time.className = "wall-time";
  time.dateTime = answerDatetime(answer.at);
  time.textContent = answerTime(answer.at);
  const foot = document.createElement("div");
  foot.className = "wall-foot";
  foot.append(time);
  if (this.onPick) {
    const hide = document.createElement("button");
    hide.type = "button";
    hide.className = "wall-hide";
    hide.textContent = "Hide";
    hide.setAttribute("aria-label", "Hide “" + answer.text + "”");
    hide.addEventListener("click", () => this.onPick(answer.text));
    foot.append(hide);
  }
  card.append(text, foot);
  return card;
};
