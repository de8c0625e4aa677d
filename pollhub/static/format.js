/* pollhub: formatting and poll helpers shared by both pages. Pure functions,
 * no DOM: they run in the browser and under Node.js's test runner alike. */

import { DEFAULT_LIMITS } from "./limits.js";

const numberFormat = new Intl.NumberFormat();
const meanFormat = new Intl.NumberFormat(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/* A count with the locale's digit grouping: 1234 -> "1,234". */
export function formatCount(n) {
  return numberFormat.format(n);
}

/* "1 vote", "2 votes". */
export function plural(n, one, many) {
  return formatCount(n) + " " + (n === 1 ? one : many);
}

/* Whole percentages of `total` (0 when there are no votes). */
export function percent(n, total) {
  return total > 0 ? Math.round((100 * n) / total) : 0;
}

/* A mean for showing: one decimal, or "–" without votes. */
export function formatMean(mean) {
  return typeof mean === "number" && isFinite(mean) ? meanFormat.format(mean) : "–";
}

/* "m:ss" for a number of milliseconds, rounded up to the second. */
export function formatClock(ms) {
  const seconds = Math.ceil(Math.max(0, ms) / 1000);
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  return minutes + ":" + (rest < 10 ? "0" : "") + rest;
}

/* The words for a connection state (see transport.js). */
export function statusText(state) {
  if (state === "open") return "Connected";
  if (state === "connecting") return "Connecting…";
  if (state === "stopped") return "Disconnected";
  return "Reconnecting…";
}

/* Collapses runs of white space and trims: what the server does to labels and answers. */
export function squash(text) {
  return text.replace(/\s+/g, " ").trim();
}

/* Poll kinds whose votes name options (the others: "scale" holds a number,
   "words" short answers); a quiz question's answer is an option too. */
const OPTION_KINDS = { single: true, multiple: true, counter: true, quiz: true };

export function hasOptions(poll) {
  return OPTION_KINDS[poll.kind] === true;
}

/* Whether the poll as held carries counts ("visible" is missing from a
   version 1 server, which always sends them). */
export function isVisible(poll) {
  return poll.visible !== false;
}

/* Milliseconds left on the poll's countdown (0 once it ran out), or null
   without one; poll.closesAt is the local deadline the reducer noted. */
export function timeLeft(poll, now) {
  if (!poll || !poll.open || typeof poll.closesAt !== "number") return null;
  return Math.max(0, poll.closesAt - (now === undefined ? performance.now() : now));
}

/* What a participant who gets no counts for a poll is told, or "" when the counts are there. */
export function resultsNote(poll) {
  if (isVisible(poll)) return "";
  if (poll.results === "after_vote") return "Results appear after you vote";
  if (poll.results === "after_close") return "Results appear when voting closes";
  return "The presenter will reveal the results";
}

/* How many voters hold a vote in a poll (its total, from a version 1 server). */
export function votersOf(poll) {
  return typeof poll.voters === "number" ? poll.voters : poll.total || 0;
}

/* A poll's counts as [key, n] pairs, biggest first, ties in alphabetical
   order (so the order never depends on how the object's keys were sent). */
export function rankedCounts(poll) {
  return Object.keys(poll.counts || {}).map((key) => [key, poll.counts[key] || 0]).sort((a, b) => {
    const x = a[0].toLowerCase();
    const y = b[0].toLowerCase();
    return b[1] - a[1] || (x < y ? -1 : x > y ? 1 : 0);
  });
}

/* The scale poll's values, min to max (an older server may leave the bounds out). */
export function scaleValues(poll) {
  const values = [];
  const min = typeof poll.min === "number" ? poll.min : DEFAULT_LIMITS.scale_default[0];
  const max = typeof poll.max === "number" ? poll.max : DEFAULT_LIMITS.scale_default[1];
  for (let v = min; v <= max; v++) values.push(v);
  return values;
}
// Who sees the results --------------------------------------------------------------

/* Whether participants can see a poll's results now: see is "yes", "some"
   (those who voted) or "no"; text says it in words, short as a badge
   ("" when nothing needs saying); reveal: a reveal would show them. */
export function audience(poll) {
  var mode = poll.results || "always";
  if (mode === "always") return { see: "yes", text: "Participants see the results", short: "", reveal: false };
  if (poll.revealed) return { see: "yes", text: "Revealed: participants see the results", short: "Revealed", reveal: false };
  if (mode === "after_vote" && poll.open) return { see: "some", text: "Participants see the results once they vote", short: "Results after vote", reveal: true };
  if (mode === "after_close" && poll.open) return { see: "no", text: "Hidden from participants until voting closes", short: "Hidden until closed", reveal: true };
  if (mode === "hidden") return { see: "no", text: "Hidden from participants", short: "Hidden", reveal: true };
  return { see: "yes", text: "Participants see the results: voting is closed", short: "", reveal: false };
}

