/* pollhub: the "ranking" poll kind in the pages.
 *
 * A voter puts the options in order, all of them or their top max_ranked,
 * and sends the order as "options": [ids, first to last]. The results'
 * "counts" are each option's Borda score (with n options, n - 1 points for a
 * first place down to 0; nothing for an option a voter left out), and
 * "positions" each option's average place (1-based, among the voters who
 * ranked it; null if nobody did). Both pages show them as bars ordered by
 * score (RankingBars).
 *
 * Ordering needs no drag and drop: the voter taps the options in their order
 * (each tap puts the option next; a tap on a ranked option takes it out and
 * closes the gap), with Undo and Clear, then Submit (RankingPicker). Every
 * control is a button, so Tab, Enter and Space do it all from a keyboard;
 * the arrow keys move between the options too.
 *
 * The helpers above RankingPicker are pure (tests/js/ranking-kind.test.mjs).
 */

import { el } from "./dom.js";
import { formatCount, formatMean, hasOptions, plural } from "./format.js";

export const RANKING_KIND = "ranking";
const COLOURS = 8; // --c0 .. --c7, by the option's place in the poll

export function isRanking(poll) {
  return !!poll && poll.kind === RANKING_KIND;
}

/* Whether a new poll of `kind` is given options (the create form's options field). */
export function takesOptions(kind) {
  return hasOptions({ kind: kind }) || kind === RANKING_KIND;
}

/* How many options one voter may rank: the poll's max_ranked, else all of them. */
export function maxRanked(poll) {
  const n = (poll.options || []).length;
  return typeof poll.max_ranked === "number" && poll.max_ranked > 0 ? Math.min(poll.max_ranked, n) : n;
}

/* An order after a tap on `optionId`: a ranked option leaves it (the ones
   after it move up), another comes last. { order, full }: full is true when
   the tap found no room (the order is then unchanged). */
export function tapOption(order, optionId, max) {
  const at = order.indexOf(optionId);
  if (at >= 0) return { order: order.slice(0, at).concat(order.slice(at + 1)), full: false };
  if (order.length >= max) return { order, full: true };
  return { order: order.concat([optionId]), full: false };
}

/* The order without its last option. */
export function undoLast(order) {
  return order.slice(0, -1);
}

/* Whether a choice the server says this voter holds is a ranking of the poll's options. */
export function validRanking(poll, choice) {
  if (!Array.isArray(choice) || choice.length === 0 || choice.length > (poll.options || []).length) return false;
  const ids = new Set((poll.options || []).map((o) => o.id));
  return new Set(choice).size === choice.length && choice.every((id) => ids.has(id));
}

/* The poll's options by score, the highest first (equal scores in the poll's
   option order, sharing a place: 1, 1, 3), each as
   { id, label, index, score, position, place }. */
export function byScore(poll) {
  const counts = poll.counts || {};
  const positions = poll.positions || {};
  const rows = (poll.options || []).map((o, index) => ({
    id: o.id,
    label: o.label,
    index,
    score: typeof counts[o.id] === "number" ? counts[o.id] : 0,
    position: typeof positions[o.id] === "number" ? positions[o.id] : null
  }));
  rows.sort((a, b) => b.score - a.score || a.index - b.index);
  rows.forEach((row, i) => {
    row.place = i > 0 && row.score === rows[i - 1].score ? rows[i - 1].place : i + 1;
  });
  return rows;
}

/* "1st", "2nd", "3rd", "4th", "11th", "21st". */
export function ordinal(n) {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? "th" : ["th", "st", "nd", "rd"][n % 10] || "th";
  return formatCount(n) + suffix;
}

/* "average place 1.7", or "not ranked yet". */
export function positionText(position) {
  return typeof position === "number" ? "average place " + formatMean(position) : "not ranked yet";
}

function labelOf(poll, optionId) {
  const option = (poll.options || []).find((o) => o.id === optionId);
  return option ? option.label : optionId;
}

/* A ranking in words: "1. Coffee, 2. Tea". */
export function describeRanking(poll, order) {
  return (order || []).map((id, i) => (i + 1) + ". " + labelOf(poll, id)).join(", ");
}

/* "Ranking: 1. Coffee 7 points, 2. Tea 5 points, 3. Water 4 points. 3 voters." (the top three). */
export function summarizeRanking(poll) {
  if (!poll.total) return "";
  const top = byScore(poll).slice(0, 3).map((row) => row.place + ". " + row.label + " " + plural(row.score, "point", "points"));
  return "Ranking: " + top.join(", ") + ". " + plural(poll.voters || 0, "voter", "voters") + ".";
}

/* The presenter's poll list line: "leading: Coffee" (ties: "leading: Coffee, Tea"), or how many options. */
export function rankingLead(poll) {
  const rows = byScore(poll);
  const first = rows.filter((row) => row.score > 0 && row.place === 1).map((row) => row.label);
  return first.length ? "leading: " + first.join(", ") : plural(rows.length, "option", "options") + " to rank";
}

/* The line under an open ranking poll: what to do next (voted: this voter's ranking is in). */
export function rankingHint(poll, voted) {
  const max = maxRanked(poll);
  const all = max >= (poll.options || []).length;
  const what = all ? "Tap the options in your order, your favourite first" : "Tap your top " + formatCount(max) + " in order, your favourite first";
  if (poll.changes === "locked") return what + ", then submit. You cannot change it after that.";
  return voted ? "Changed your mind? Tap a ranked option to take it out, or Clear, then update your ranking." : what + ", then submit.";
}

/* The badge over the question: "Rank them" or "Rank your top 3". */
export function rankingBadge(poll) {
  const max = maxRanked(poll);
  return max >= (poll.options || []).length ? "Rank them" : "Rank your top " + formatCount(max);
}

// The results: bars by score -----------------------------------------------------------------

/* A ranking poll's results in `container`: one bar per option, the highest
   score first, each with its place, score and average place. Rows are kept
   by option and moved when the order changes (the focus stays where it was). */
export function RankingBars(container, options) {
  this.container = container;
  this.key = "";
  this.rows = new Map(); // option id -> parts
  this.list = el("ol", "bars ranking-bars");
  this.list.setAttribute("aria-label", "Ranking, the highest score first");
  this.empty = el("p", "ranking-empty", (options && options.emptyText) || "No rankings yet.");
  container.textContent = "";
  container.append(this.list, this.empty);
}

RankingBars.prototype.build = function (poll) {
  this.list.textContent = "";
  this.rows = new Map();
  poll.options.forEach((option, index) => {
    const row = el("li", "bar ranking-bar");
    row.dataset.option = option.id;
    row.dataset.index = String(index % COLOURS);
    const text = el("div", "bar-text");
    const place = el("span", "ranking-place-number");
    const label = el("span", "bar-label", option.label);
    const figures = el("span", "bar-figures");
    const score = el("span", "bar-pct");
    const detail = el("span", "bar-count");
    figures.append(el("span", "visually-hidden", ", "), score, el("span", "visually-hidden", ", "), detail);
    text.append(place, label, figures);
    const track = el("div", "bar-track");
    track.setAttribute("aria-hidden", "true");
    const fill = el("div", "bar-fill");
    track.append(fill);
    row.append(text, track);
    this.list.append(row);
    this.rows.set(option.id, { row, place, score, detail, fill });
  });
  const n = poll.options.length;
  this.list.dataset.size = n <= 4 ? "large" : n <= 8 ? "medium" : n <= 14 ? "small" : "tiny";
};

RankingBars.prototype.update = function (poll) {
  const key = poll.id + "\u0002" + poll.options.map((o) => o.id + "\u0000" + o.label).join("\u0001");
  if (key !== this.key) {
    this.build(poll);
    this.key = key;
  }
  const rows = byScore(poll);
  const top = rows.length ? rows[0].score : 0;
  this.empty.hidden = top > 0;
  const focused = document.activeElement;
  rows.forEach((entry, i) => {
    const parts = this.rows.get(entry.id);
    parts.place.textContent = entry.score > 0 ? formatCount(entry.place) : "–";
    parts.score.textContent = plural(entry.score, "point", "points");
    parts.detail.textContent = positionText(entry.position);
    parts.fill.style.width = (top > 0 ? (100 * entry.score) / top : 0) + "%";
    parts.row.classList.toggle("is-leading", entry.score > 0 && entry.score === top);
    if (this.list.children[i] !== parts.row) this.list.insertBefore(parts.row, this.list.children[i] || null);
  });
  if (focused && focused !== document.activeElement && this.list.contains(focused)) focused.focus();
};

// The participant's controls: tap in order -----------------------------------------------------

/* The options to tap in order, Undo, Clear and Submit, and the results under
   them, in `container`. callbacks: onSubmit(poll, order) sends a vote,
   onChange() asks the page to render again, onError(pollId, text) shows a
   problem, onAnnounce(text) says a change to a screen reader ("Tea, 2nd"). The page calls update(poll, view) on every render, with view =
   { chosen, pending, connected, final, visible }: the vote held, the one on
   its way, and what the page knows. An order being built is kept per poll
   until the vote holds it. */
export function RankingPicker(container, callbacks) {
  this.callbacks = callbacks;
  this.drafts = new Map(); // poll id -> option ids in the order tapped, not sent yet
  this.poll = null;
  this.key = "";
  this.buttons = new Map(); // option id -> { button, place, label }
  this.list = el("ol", "ranking-options");
  this.list.addEventListener("keydown", (event) => this.onKey(event));
  this.undo = el("button", "btn ranking-undo", "Undo");
  this.clear = el("button", "btn ranking-clear", "Clear");
  this.count = el("span", "ranking-count");
  this.submit = el("button", "btn btn-primary btn-vote ranking-submit", "Submit ranking");
  [this.undo, this.clear, this.submit].forEach((button) => { button.type = "button"; });
  this.undo.addEventListener("click", () => this.edit((order) => undoLast(order), "Took back the last one."));
  this.clear.addEventListener("click", () => this.edit(() => [], "Cleared: start again from your favourite."));
  this.submit.addEventListener("click", () => this.send());
  const controls = el("div", "ranking-controls");
  const edits = el("div", "ranking-edits");
  edits.append(this.undo, this.clear);
  controls.append(edits, this.count, this.submit);
  this.results = el("div", "ranking-results");
  this.bars = new RankingBars(this.results, { emptyText: "No rankings yet. Be the first!" });
  container.textContent = "";
  container.append(this.list, controls, this.results);
}

/* The order the page shows: the draft, else the vote on its way, else the vote held. */
RankingPicker.prototype.shown = function (poll, view) {
  if (this.drafts.has(poll.id)) return this.drafts.get(poll.id);
  if (Array.isArray(view.pending)) return view.pending;
  return Array.isArray(view.chosen) ? view.chosen : [];
};

RankingPicker.prototype.canEdit = function () {
  const view = this.view;
  return !!this.poll && this.poll.open && view.connected && !view.final && view.pending === undefined;
};

/* A change of the order being built: change(order) gives the new one; `said` is announced. */
RankingPicker.prototype.edit = function (change, said) {
  if (!this.canEdit()) return;
  this.drafts.set(this.poll.id, change(this.shown(this.poll, this.view)));
  this.callbacks.onAnnounce(said);
  this.callbacks.onChange();
};

RankingPicker.prototype.tap = function (optionId) {
  if (!this.canEdit()) return;
  const poll = this.poll;
  const max = maxRanked(poll);
  const next = tapOption(this.shown(poll, this.view), optionId, max);
  if (next.full) {
    this.callbacks.onError(poll.id, "You can rank up to " + formatCount(max) + ". Tap a ranked option to take it out, or Undo.");
    return;
  }
  this.drafts.set(poll.id, next.order);
  const at = next.order.indexOf(optionId);
  this.callbacks.onAnnounce(labelOf(poll, optionId) + (at >= 0 ? ", " + ordinal(at + 1) : ", taken out") + ".");
  this.callbacks.onChange();
};

RankingPicker.prototype.send = function () {
  if (!this.canEdit()) return;
  const order = this.shown(this.poll, this.view);
  if (!order.length) {
    this.callbacks.onError(this.poll.id, "Tap at least one option first.");
    return;
  }
  this.callbacks.onSubmit(this.poll, order.slice());
};

/* Up and down arrows (and Home, End) move between the options. */
RankingPicker.prototype.onKey = function (event) {
  const buttons = Array.from(this.list.querySelectorAll("button"));
  const at = buttons.indexOf(document.activeElement);
  if (at < 0) return;
  const to = { ArrowDown: at + 1, ArrowRight: at + 1, ArrowUp: at - 1, ArrowLeft: at - 1, Home: 0, End: buttons.length - 1 }[event.key];
  if (to === undefined) return;
  event.preventDefault();
  buttons[Math.max(0, Math.min(buttons.length - 1, to))].focus();
};

RankingPicker.prototype.build = function (poll, key) {
  const focusedId = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.option : undefined;
  const same = this.poll && this.poll.id === poll.id;
  this.list.textContent = "";
  this.buttons = new Map();
  poll.options.forEach((option, index) => {
    const item = el("li", "ranking-item");
    const button = el("button", "option ranking-option");
    button.type = "button";
    button.dataset.option = option.id;
    button.dataset.index = String(index % COLOURS);
    const place = el("span", "ranking-place");
    place.setAttribute("aria-hidden", "true");
    const label = el("span", "option-label", option.label);
    button.append(place, label);
    button.addEventListener("click", () => this.tap(option.id));
    item.append(button);
    this.list.append(item);
    this.buttons.set(option.id, { button, place, label: option.label });
  });
  this.key = key;
  if (same && focusedId && this.buttons.has(focusedId)) this.buttons.get(focusedId).button.focus();
};

RankingPicker.prototype.update = function (poll, view) {
  const key = poll.id + "\u0002" + poll.options.map((o) => o.id + "\u0000" + o.label).join("\u0001");
  if (key !== this.key) this.build(poll, key);
  this.poll = poll;
  this.view = view;
  const draft = this.drafts.get(poll.id);
  if (draft && Array.isArray(view.chosen) && view.pending === undefined && draft.join("\u0000") === view.chosen.join("\u0000")) {
    this.drafts.delete(poll.id); // the vote holds it now
  }
  const order = this.shown(poll, view);
  const editable = this.canEdit();
  const max = maxRanked(poll);
  this.list.setAttribute("aria-label", max >= poll.options.length ? "Options: select them in your order, favourite first" : "Options: select your top " + max + " in order, favourite first");
  this.buttons.forEach((parts, optionId) => {
    const at = order.indexOf(optionId);
    parts.button.disabled = !editable;
    parts.button.setAttribute("aria-pressed", String(at >= 0));
    parts.button.classList.toggle("is-chosen", at >= 0);
    parts.button.classList.toggle("is-pending", at >= 0 && view.pending !== undefined);
    parts.place.textContent = at >= 0 ? String(at + 1) : "";
    parts.button.setAttribute("aria-label", parts.label + (at >= 0 ? ", ranked " + ordinal(at + 1) : ", not ranked"));
  });
  const changed = !Array.isArray(view.chosen) || order.join("\u0000") !== view.chosen.join("\u0000");
  this.undo.disabled = !editable || order.length === 0;
  this.clear.disabled = !editable || order.length === 0;
  this.submit.disabled = !editable || order.length === 0 || !changed;
  this.submit.textContent = view.pending !== undefined ? "Sending…" : Array.isArray(view.chosen) && !view.final ? "Update my ranking" : "Submit ranking";
  this.count.textContent = formatCount(order.length) + " of " + formatCount(max) + " ranked";
  this.results.hidden = !view.visible;
  if (view.visible) this.bars.update(poll);
};
