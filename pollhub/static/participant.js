/* pollhub participant page: the current poll, its controls by kind, live results.
 *
 * All state comes from the server: every (re)connect starts over from its
 * welcome (polls, current poll) and the hello reply (this voter's choices).
 * The voter id lives in localStorage, so a reload or a lost connection never
 * makes a second voter.
 *
 * Kinds: "single" (one option), "counter" (every tap counts), "multiple" (up
 * to max_choices options, sent with Submit), "scale" (one number min..max),
 * "words" (up to max_answers short answers, shown in a word cloud) and
 * "open" (up to max_answers longer answers, shown as a wall of cards: see
 * open-kind.js; it shares the words kind's answer box). A
 * poll may hold its counts back from participants ("visible": false); the
 * page then says when they will appear instead.
 */
import { PollConnection, randomId } from "./transport.js";
import { initialState, reduce, setDraft, currentPoll, chosenIn } from "./state.js";
import { formatCount, formatClock, formatMean, percent, plural, hasOptions, isVisible, timeLeft, resultsNote, votersOf, rankedCounts, scaleValues, squash } from "./format.js";
import { el, fromTemplate, onNextFrame, setBounds, showStatus } from "./dom.js";
import { ScaleChart, WordCloud } from "./charts.js";
import { OPEN_KIND, AnswerWall, answerLimit, answerLength, answersDefault, answersTotal, countText, summarizeAnswers, takesAnswers } from "./open-kind.js";
import { createParticipantQa } from "./qa-participant.js";
import { createParticipantQuiz } from "./quiz-participant.js";

var VOTER_KEY = "pollhub-voter";
var ANNOUNCE_INTERVAL = 3000; // ms between two spoken result summaries, at least
var TICK = 250; // ms between two countdown updates
var HURRY = 10000; // ms left on a countdown when it turns urgent (and is announced)

var $ = function (id) { return document.getElementById(id); };
var view = {
  status: $("status"),
  loading: $("loading"),
  waiting: $("waiting"),
  poll: $("poll"),
  kind: $("poll-kind"),
  open: $("poll-open"),
  locked: $("poll-locked"),
  countdown: $("countdown"),
  countdownText: $("countdown-text"),
  question: $("question"),
  closed: $("closed"),
  options: $("options"),
  submitRow: $("submit-row"),
  submit: $("submit"),
  picked: $("picked"),
  scale: $("scale"),
  scaleButtons: $("scale-buttons"),
  scaleChart: $("scale-chart"),
  words: $("words"),
  wordsForm: $("words-form"),
  wordsInput: $("words-input"),
  wordsSend: $("words-send"),
  openInput: $("open-input"),
  openCount: $("open-count"),
  wall: $("wall"),
  answersBox: $("answers-box"),
  answersTitle: $("answers-title"),
  answers: $("answers"),
  answersSubmit: $("answers-submit"),
  cloud: $("cloud"),
  voteError: $("vote-error"),
  resultsNote: $("results-note"),
  resultsNoteText: $("results-note-text"),
  yourVote: $("your-vote"),
  hint: $("hint"),
  total: $("total"),
  announcer: $("announcer")
};

var state = initialState(); // what the server said (state.js), replaced by reduce() with every message
var ui = {
  connection: "connecting",
  pending: {}, // poll id -> a choice on its way to the server
  errors: {} // poll id -> the last vote's problem, in words, shown by the controls
};

/* The voter id: kept in localStorage (or for this page only, if storage is off). */
function voterId() {
  var id = null;
  try {
    id = localStorage.getItem(VOTER_KEY);
    if (!id || !/^[0-9a-f]{32}$/.test(id)) {
      id = randomId();
      localStorage.setItem(VOTER_KEY, id);
    }
  } catch (e) {
    id = id || randomId();
  }
  return id;
}
var voter = voterId();

// Messages ---------------------------------------------------------------------

function handle(message) {
  qaView.handle(message); // Q&A (qa-participant.js)
  quizView.handle(message); // quizzes (quiz-participant.js)
  if (message.type === "voted") return; // a reply to send(), which applies it
  var before = state;
  state = reduce(state, message, performance.now());
  if (message.type === "welcome") {
    ui.pending = {};
    applyLimits();
  }
  if (message.type === "poll" && message.poll) {
    var was = before.polls.get(message.poll.id);
    var fresh = state.polls.get(message.poll.id);
    if (fresh && fresh.id === state.current && was && was.open !== fresh.open) {
      announce(fresh.open ? "Voting is open again." : "Voting is closed.");
      delete ui.errors[fresh.id];
    }
  }
  if (state !== before) scheduleRender();
}

/* The server's limits on the page's fields (the defaults until the first welcome). */
function applyLimits() {
  setBounds(view.wordsInput, { maxlength: state.limits.answer_length });
}

function labelOf(poll, optionId) {
  for (var i = 0; i < poll.options.length; i++) {
    if (poll.options[i].id === optionId) return poll.options[i].label;
  }
  return optionId;
}

/* A choice in words: "Pizza", "Pizza, Salad", "4" or "blue, green". */
function describeChoice(poll, choice) {
  if (poll.kind === "single") return labelOf(poll, choice);
  if (poll.kind === "multiple") return orderedIds(poll, choice).map(function (id) { return labelOf(poll, id); }).join(", ");
  if (Array.isArray(choice)) return choice.join(", ");
  return String(choice);
}

/* Option ids in the poll's own option order. */
function orderedIds(poll, ids) {
  return poll.options.map(function (o) { return o.id; }).filter(function (id) { return ids.indexOf(id) >= 0; });
}

function sameChoice(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/* Locked polls take one vote per voter: once it is in, it is final. */
function isFinal(poll) {
  return poll.changes === "locked" && state.choices[poll.id] !== undefined;
}

function maxChoices(poll) {
  return typeof poll.max_choices === "number" ? poll.max_choices : poll.options.length;
}

function maxAnswers(poll) {
  return typeof poll.max_answers === "number" ? poll.max_answers : answersDefault(poll.kind, state.limits);
}

/* The answer box of a words or open poll: a one-line field, or a text area for open answers. */
function answerInput(poll) {
  return poll && poll.kind === OPEN_KIND ? view.openInput : view.wordsInput;
}

// Voting -----------------------------------------------------------------------

var ERRORS = {
  poll_closed: "Voting is closed for this question.",
  unknown_poll: "This question is no longer available.",
  unknown_option: "That option is no longer available.",
  vote_locked: "Your vote is final: this question does not allow changes.",
  rate_limited: "Whoa, that was fast! Slow down a little.",
  unavailable: "The server is busy. Please try again.",
  bad_message: "Your vote did not reach the server in one piece. Please try again."
};

/* Plain words for an error reply to a vote in `poll`. */
function errorText(poll, reply) {
  if (reply.code === "invalid_vote" && poll) {
    if (poll.kind === "multiple") return "Pick between 1 and " + plural(maxChoices(poll), "option", "options") + ".";
    if (poll.kind === "scale") return "Pick a number from " + scaleValues(poll)[0] + " to " + scaleValues(poll).slice(-1)[0] + ".";
    if (takesAnswers(poll)) return "Answers can be up to " + answerLimit(poll, state.limits) + " characters each, and you can send up to " + plural(maxAnswers(poll), "answer", "answers") + ".";
  }
  return ERRORS[reply.code] || "Your vote did not count. Please try again.";
}

/* Sends a vote: `fields` is what the kind takes ({option}, {options},
   {value} or {text}), `choice` what the page shows while it is on its way. */
function send(poll, fields, choice) {
  if (!connection.isOpen() || !poll.open) return;
  var pollId = poll.id;
  if (poll.kind !== "counter") ui.pending[pollId] = choice;
  delete ui.errors[pollId];
  render();
  connection.request(Object.assign({ type: "vote", poll: pollId }, fields)).then(function (reply) {
    if (sameChoice(ui.pending[pollId], choice)) delete ui.pending[pollId];
    var current = state.polls.get(pollId);
    if (reply.type === "voted" && current) {
      state = reduce(state, reply, performance.now()); // the vote as counted, a tap or this voter's choice
      if (current.kind !== "counter" || current.changes === "locked") {
        var voted = chosenIn(reply);
        if (takesAnswers(current) && pollId === state.current) clearAnswerInput(current);
        announce((takesAnswers(current) ? "Your answers: " : "Your vote: ") + describeChoice(current, voted) + ".");
      }
    } else if (reply.type === "error") {
      ui.errors[pollId] = errorText(current, reply);
    }
    render();
  }, function () {
    if (sameChoice(ui.pending[pollId], choice)) delete ui.pending[pollId];
    ui.errors[pollId] = "Your vote could not be sent. It will work again once reconnected.";
    render();
  });
}

function showError(pollId, text) {
  ui.errors[pollId] = text;
  render();
}

/* A tap on an option: a vote in single and counter polls, a change of the
   selection (sent with Submit) in multiple polls. */
function pickOption(poll, optionId) {
  if (!poll.open || !connection.isOpen() || isFinal(poll)) return;
  if (poll.kind === "single") {
    if (state.choices[poll.id] === optionId && ui.pending[poll.id] === undefined) return;
    send(poll, { option: optionId }, optionId);
  } else if (poll.kind === "counter") {
    send(poll, { option: optionId }, optionId);
  } else if (poll.kind === "multiple") {
    var selection = selectionOf(poll).slice();
    var at = selection.indexOf(optionId);
    var max = maxChoices(poll);
    delete ui.errors[poll.id];
    if (at >= 0) selection.splice(at, 1);
    else if (max === 1) selection = [optionId];
    else if (selection.length >= max) {
      showError(poll.id, "You can pick up to " + formatCount(max) + ". Untick one to pick another.");
      return;
    } else selection.push(optionId);
    state = setDraft(state, poll.id, orderedIds(poll, selection));
    render();
  }
}

/* The options shown as picked in a multiple poll: the draft, else the vote on its way, else the vote. */
function selectionOf(poll) {
  if (state.drafts[poll.id]) return state.drafts[poll.id];
  if (ui.pending[poll.id]) return ui.pending[poll.id];
  return state.choices[poll.id] || [];
}

function submitSelection() {
  var poll = currentPoll(state);
  if (!poll || poll.kind !== "multiple" || isFinal(poll)) return;
  var selection = selectionOf(poll);
  if (!selection.length) {
    showError(poll.id, "Pick at least one option first.");
    return;
  }
  send(poll, { options: selection }, selection);
}

function pickValue(poll, value) {
  if (!poll.open || !connection.isOpen() || isFinal(poll)) return;
  if (state.choices[poll.id] === value && ui.pending[poll.id] === undefined) return;
  send(poll, { value: value }, value);
}

function hasAnswer(list, answer) {
  var folded = answer.toLocaleLowerCase();
  return list.some(function (a) { return a.toLocaleLowerCase() === folded; });
}

/* The answer box's Send (or Add, in a locked poll that collects answers before they go). */
function sendAnswer() {
  var poll = currentPoll(state);
  if (!poll || !takesAnswers(poll) || !poll.open || isFinal(poll)) return;
  var answer = squash(answerInput(poll).value);
  var max = maxAnswers(poll);
  var limit = answerLimit(poll, state.limits);
  if (!answer) return showError(poll.id, "Write an answer first.");
  if (answerLength(answer) > limit) return showError(poll.id, "Keep it to " + limit + " characters or fewer.");
  if (collectsAnswers(poll)) {
    var draft = state.drafts[poll.id] || [];
    if (hasAnswer(draft, answer)) return showError(poll.id, "That answer is on your list already.");
    if (draft.length >= max) return showError(poll.id, "That is " + plural(max, "answer", "answers") + " already. Remove one to add another.");
    state = setDraft(state, poll.id, draft.concat([answer]));
    delete ui.errors[poll.id];
    clearAnswerInput(poll);
    render();
    return;
  }
  var answers = state.choices[poll.id] || [];
  if (hasAnswer(answers, answer)) return showError(poll.id, "You sent that one already.");
  if (max === 1) answers = []; // one answer each: a new one replaces it
  else if (answers.length >= max) return showError(poll.id, "You sent " + plural(max, "answer", "answers") + " already. Remove one to send another.");
  send(poll, { text: answers.concat([answer]) }, answers.concat([answer]));
}

function clearAnswerInput(poll) {
  answerInput(poll).value = "";
  if (poll.kind === OPEN_KIND) renderOpenCount(poll);
}

/* A locked words poll with room for several answers gathers them on the
   page first: the one vote it takes is final. */
function collectsAnswers(poll) {
  return poll.changes === "locked" && maxAnswers(poll) > 1 && !isFinal(poll);
}

function removeAnswer(poll, answer) {
  if (!poll.open || isFinal(poll)) return;
  if (collectsAnswers(poll)) {
    state = setDraft(state, poll.id, (state.drafts[poll.id] || []).filter(function (a) { return a !== answer; }));
    answerInput(poll).focus();
    render();
    return;
  }
  var rest = (state.choices[poll.id] || []).filter(function (a) { return a !== answer; });
  if (!rest.length) return;
  answerInput(poll).focus();
  send(poll, { text: rest }, rest);
}

function submitAnswers() {
  var poll = currentPoll(state);
  if (!poll || !takesAnswers(poll) || !collectsAnswers(poll)) return;
  var draft = state.drafts[poll.id] || [];
  var typed = squash(answerInput(poll).value);
  if (typed && !hasAnswer(draft, typed) && draft.length < maxAnswers(poll) && answerLength(typed) <= answerLimit(poll, state.limits)) draft = draft.concat([typed]);
  if (!draft.length) return showError(poll.id, "Write an answer first.");
  send(poll, { text: draft }, draft);
}

// Screen reader announcements ----------------------------------------------------

var lastSaid = "";
var lastSpoken = 0;
function announce(text) {
  // Re-setting the same text would not be spoken again; vary it invisibly.
  if (text === lastSaid) text += "\u00a0";
  lastSaid = text;
  lastSpoken = Date.now();
  view.announcer.textContent = text;
}

/* A summary of the current results, at most once every ANNOUNCE_INTERVAL
 * and never right on top of another announcement. */
var lastSummary = "";
var summaryTimer = 0;
function announceResults() {
  if (summaryTimer) return;
  var wait = Math.max(0, lastSpoken + ANNOUNCE_INTERVAL - Date.now());
  summaryTimer = setTimeout(function () {
    summaryTimer = 0;
    if (Date.now() - lastSpoken < ANNOUNCE_INTERVAL) {
      announceResults();
      return;
    }
    var poll = currentPoll(state);
    if (!poll || ui.connection !== "open" || !isVisible(poll)) return;
    var summary = summarize(poll);
    if (summary === lastSummary) return;
    lastSummary = summary;
    if (summary) announce(summary);
  }, wait);
}

/* "Results: Pizza 3 (60%), Salad 2 (40%). 5 votes." (the top three), or the
   scale's average, or the top answers. */
function summarize(poll) {
  var voters = votersOf(poll);
  var total = poll.total || 0;
  if (total === 0) return "";
  if (poll.kind === "scale") return "Results: average " + formatMean(poll.mean) + " from " + plural(voters, "voter", "voters") + ".";
  if (poll.kind === OPEN_KIND) return summarizeAnswers(poll);
  var ranked = rankedCounts(poll).slice(0, 3);
  if (poll.kind === "words") {
    return "Top answers: " + ranked.map(function (e) { return e[0] + " " + formatCount(e[1]); }).join(", ") + ". " + plural(voters, "voter", "voters") + ".";
  }
  var base = poll.kind === "multiple" ? voters : total;
  var parts = ranked.map(function (e) {
    return labelOf(poll, e[0]) + " " + formatCount(e[1]) + " (" + percent(e[1], base) + "%)";
  });
  return "Results: " + parts.join(", ") + ". " + (poll.kind === "multiple" ? plural(voters, "voter", "voters") : plural(total, "vote", "votes")) + ".";
}

// Rendering ----------------------------------------------------------------------

var scheduleRender = onNextFrame(function () { render(); });

var rendered = { pollId: null, optionKey: "", buttons: new Map(), scaleKey: "", scaleButtons: new Map(), announcedPoll: undefined };
var scaleChart = new ScaleChart(view.scaleChart);
var cloud = new WordCloud(view.cloud, { emptyText: "No answers yet. Be the first!" });
var wall = new AnswerWall(view.wall, { emptyText: "No answers yet. Be the first!" });

var KIND_TEXT = {
  single: "Choose one",
  counter: "Tap to count",
  scale: "Pick a number",
  words: "Your words",
  open: "Your answer"
};

function kindText(poll) {
  if (poll.kind === "multiple") {
    var max = maxChoices(poll);
    return max >= poll.options.length ? "Choose any" : max === 1 ? "Choose one" : "Choose up to " + formatCount(max);
  }
  if (poll.kind === "counter" && poll.changes === "locked") return "Tap once";
  return KIND_TEXT[poll.kind] || "Vote";
}

function render() {
  var poll = currentPoll(state);
  var quizShown = quizView.render(state); // quiz-participant.js: true when it shows the current poll (a quiz question)
  view.loading.hidden = state.welcomed;
  view.waiting.hidden = !state.welcomed || !!poll;
  view.poll.hidden = !state.welcomed || !poll || quizShown;
  if (!state.welcomed) return;
  if (quizShown) {
    rendered.pollId = null;
    tickWhileCounting(null);
    return;
  }
  if (!poll) {
    document.title = "pollhub · Waiting";
    if (rendered.announcedPoll !== null) {
      rendered.announcedPoll = null;
      if (ui.connection === "open") announce("Waiting for the next question.");
    }
    rendered.pollId = null;
    tickWhileCounting(null);
    return;
  }
  document.title = poll.question + " · pollhub";
  if (rendered.announcedPoll !== poll.id) {
    rendered.announcedPoll = poll.id;
    lastSummary = "";
    announce("Question: " + poll.question + (poll.open ? "" : " Voting is closed."));
  }
  var connected = ui.connection === "open";
  var visible = isVisible(poll);
  var final = isFinal(poll);
  var options = hasOptions(poll);
  view.question.textContent = poll.question;
  view.kind.textContent = kindText(poll);
  view.open.hidden = !poll.open;
  view.closed.hidden = poll.open;
  view.locked.hidden = poll.changes !== "locked";
  view.poll.dataset.kind = poll.kind;
  view.poll.classList.toggle("is-closed", !poll.open);
  view.poll.classList.toggle("is-counter", poll.kind === "counter");
  view.poll.classList.toggle("is-multiple", poll.kind === "multiple");
  view.poll.classList.toggle("is-offline", !connected);
  view.poll.classList.toggle("is-final", final);
  view.poll.classList.toggle("no-results", !visible);
  view.options.hidden = !options;
  view.submitRow.hidden = poll.kind !== "multiple";
  view.scale.hidden = poll.kind !== "scale";
  view.words.hidden = !takesAnswers(poll);

  if (options) renderOptions(poll, connected, final);
  else if (poll.kind === "scale") renderScale(poll, connected, final, visible);
  else if (takesAnswers(poll)) renderWords(poll, connected, final, visible);

  var error = ui.errors[poll.id] || "";
  view.voteError.hidden = !error;
  if (view.voteError.textContent !== error) view.voteError.textContent = error; // an alert: set only when it changes
  var note = resultsNote(poll);
  view.resultsNote.hidden = !note;
  view.resultsNoteText.textContent = note;

  renderYourVote(poll, final);
  view.hint.textContent = hintText(poll, connected, final);
  view.total.hidden = !visible;
  view.total.textContent = visible ? totalText(poll) : "";
  renderCountdown(poll);
  tickWhileCounting(poll);
  if (visible) announceResults();
}

function renderYourVote(poll, final) {
  var choice = state.choices[poll.id];
  if (choice === undefined || takesAnswers(poll)) {
    view.yourVote.hidden = true;
    view.yourVote.textContent = "";
    return;
  }
  view.yourVote.hidden = false;
  view.yourVote.textContent = (final ? "Your final vote: " : "Your vote: ") + describeChoice(poll, choice);
}

function totalText(poll) {
  var voters = votersOf(poll);
  if (poll.kind === "single" || poll.kind === "counter") return plural(poll.total || 0, "vote", "votes") + " in total";
  if (takesAnswers(poll)) return answersTotal(poll, voters);
  return plural(voters, "voter", "voters");
}

function hintText(poll, connected, final) {
  var choice = state.choices[poll.id];
  var voted = choice !== undefined;
  var locked = poll.changes === "locked";
  if (!connected) return "Reconnecting… voting resumes in a moment.";
  if (!poll.open) {
    if (poll.kind === "counter" && !locked) return "Results are final unless the presenter reopens voting.";
    return voted ? "Results are final unless the presenter reopens voting." : "You did not vote on this one.";
  }
  if (final) return "Your vote is in and final: this question allows no changes.";
  switch (locked && poll.kind === "counter" ? "single" : poll.kind) {
    case "counter":
      return state.taps[poll.id] ? "You tapped " + plural(state.taps[poll.id], "time", "times") + ". Keep going!" : "Tap as often as you like: every tap counts.";
    case "multiple":
      var max = maxChoices(poll);
      var pick = max >= poll.options.length ? "Pick all that apply" : max === 1 ? "Pick one" : "Pick up to " + formatCount(max);
      if (locked) return pick + ", then submit. You cannot change your vote after that.";
      return voted ? "Changed your mind? Change your picks and submit again." : pick + ", then submit.";
    case "scale":
      if (locked) return "Tap a number to vote. You cannot change it after that.";
      return voted ? "Changed your mind? Tap another number." : "Tap a number to vote.";
    case "words":
    case "open":
      var most = maxAnswers(poll);
      if (collectsAnswers(poll)) return "Add up to " + plural(most, "answer", "answers") + ", then submit. You cannot change them after that.";
      if (locked) return "Send your answer. You cannot change it after that.";
      if (!voted) return most === 1 ? "Send one answer. You can replace it later." : "Send up to " + plural(most, "answer", "answers") + ".";
      if (most === 1) return "Send another answer to replace yours.";
      return choice.length >= most ? "That is all " + formatCount(most) + ". Remove one to send another." : "You can send " + formatCount(most - choice.length) + " more.";
    default:
      if (locked) return "Tap an option to vote. You cannot change it after that.";
      return voted ? "Changed your mind? Tap another option." : "Tap an option to vote.";
  }
}

// Option kinds: single, multiple, counter ----------------------------------------

function renderOptions(poll, connected, final) {
  var optionKey = poll.kind + "\u0002" + poll.options.map(function (o) { return o.id + "\u0000" + o.label; }).join("\u0001");
  if (rendered.pollId !== poll.id || rendered.optionKey !== optionKey) buildOptions(poll, optionKey);
  var multiple = poll.kind === "multiple";
  var chosen = state.choices[poll.id];
  var pending = ui.pending[poll.id];
  var shown = multiple ? selectionOf(poll) : pending !== undefined ? pending : chosen;
  var isShown = function (id) { return multiple ? shown.indexOf(id) >= 0 : shown === id; };
  var isPending = function (id) {
    if (pending === undefined) return false;
    return multiple ? pending.indexOf(id) >= 0 && !state.drafts[poll.id] : pending === id && pending !== chosen;
  };
  var base = multiple ? votersOf(poll) : poll.total || 0;
  var counts = poll.counts || {};
  var max = 0;
  poll.options.forEach(function (o) { max = Math.max(max, counts[o.id] || 0); });
  poll.options.forEach(function (option) {
    var parts = rendered.buttons.get(option.id);
    var n = counts[option.id] || 0;
    parts.button.disabled = !poll.open || !connected || final;
    if (poll.kind !== "counter") parts.button.setAttribute("aria-pressed", String(isShown(option.id)));
    parts.button.classList.toggle("is-chosen", isShown(option.id));
    parts.button.classList.toggle("is-pending", isPending(option.id));
    parts.button.classList.toggle("is-leading", n > 0 && n === max);
    parts.fill.style.transform = "scaleX(" + (base > 0 ? Math.min(1, n / base) : 0) + ")";
    parts.pct.textContent = percent(n, base) + "%";
    parts.count.textContent = plural(n, "vote", "votes");
  });
  if (multiple) {
    var selection = selectionOf(poll);
    var limit = maxChoices(poll);
    var unchanged = chosen !== undefined && sameChoice(selection, chosen);
    view.submit.disabled = !poll.open || !connected || final || pending !== undefined || selection.length === 0 || unchanged;
    view.submit.textContent = pending !== undefined ? "Sending…" : chosen !== undefined && !final ? "Update my vote" : "Submit";
    view.picked.textContent = formatCount(selection.length) + " of " + formatCount(limit) + " picked";
  }
}

function buildOptions(poll, optionKey) {
  var focusedId = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.option : undefined;
  var sameAsBefore = rendered.pollId === poll.id;
  view.options.textContent = "";
  rendered.buttons = new Map();
  poll.options.forEach(function (option, index) {
    var parts = fromTemplate("option-template");
    var button = parts.root;
    button.dataset.option = option.id;
    button.dataset.index = String(index % 8);
    parts.label.textContent = option.label;
    button.addEventListener("click", function () {
      var current = state.polls.get(poll.id);
      if (!current) return;
      pickOption(current, option.id);
      if (current.kind === "counter" && current.open && connection.isOpen()) bump(button);
    });
    view.options.append(button);
    rendered.buttons.set(option.id, { button: button, fill: parts.fill, pct: parts.pct, count: parts.count });
  });
  rendered.pollId = poll.id;
  rendered.optionKey = optionKey;
  if (sameAsBefore && focusedId && rendered.buttons.has(focusedId)) rendered.buttons.get(focusedId).button.focus();
}

/* A short "+1" pop on a counter tap. */
function bump(button) {
  var plus = el("span", "plus-one", "+1");
  plus.setAttribute("aria-hidden", "true");
  button.append(plus);
  setTimeout(function () { plus.remove(); }, 700);
}

// Scale ----------------------------------------------------------------------------

function renderScale(poll, connected, final, visible) {
  var values = scaleValues(poll);
  var key = poll.id + "\u0000" + values.join(",");
  if (rendered.scaleKey !== key) buildScale(poll, values, key);
  var chosen = state.choices[poll.id];
  var pending = ui.pending[poll.id];
  var shown = pending !== undefined ? pending : chosen;
  rendered.scaleButtons.forEach(function (button, value) {
    button.disabled = !poll.open || !connected || final;
    button.setAttribute("aria-pressed", String(shown === value));
    button.classList.toggle("is-chosen", shown === value);
    button.classList.toggle("is-pending", pending === value && pending !== chosen);
  });
  view.scaleChart.hidden = !visible;
  if (visible) scaleChart.update(poll);
}

function buildScale(poll, values, key) {
  var focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.value : undefined;
  var same = rendered.scaleKey.split("\u0000")[0] === poll.id;
  view.scaleButtons.textContent = "";
  rendered.scaleButtons = new Map();
  // One row on a wide screen up to 11 values, else two; on a phone rows of at most 7, evenly filled.
  var n = values.length;
  view.scaleButtons.style.setProperty("--cols-wide", String(n <= 11 ? n : Math.ceil(n / 2)));
  view.scaleButtons.style.setProperty("--cols-narrow", String(Math.ceil(n / Math.ceil(n / 7))));
  view.scaleButtons.dataset.size = values.length <= 7 ? "large" : values.length <= 11 ? "medium" : "small";
  values.forEach(function (value) {
    var button = el("button", "scale-button", String(value));
    button.type = "button";
    button.dataset.value = String(value);
    button.addEventListener("click", function () {
      var current = state.polls.get(poll.id);
      if (current) pickValue(current, value);
    });
    view.scaleButtons.append(button);
    rendered.scaleButtons.set(value, button);
  });
  rendered.scaleKey = key;
  if (same && focused !== undefined && rendered.scaleButtons.has(Number(focused))) rendered.scaleButtons.get(Number(focused)).focus();
}

// Words -----------------------------------------------------------------------------

function renderWords(poll, connected, final, visible) {
  var collecting = collectsAnswers(poll);
  var chosen = state.choices[poll.id] || [];
  var pending = ui.pending[poll.id];
  var list = collecting ? state.drafts[poll.id] || [] : pending !== undefined ? pending : chosen;
  var max = maxAnswers(poll);
  var canType = poll.open && connected && !final && pending === undefined;
  var full = collecting ? list.length >= max : max > 1 && chosen.length >= max;
  var open = poll.kind === OPEN_KIND;
  var input = answerInput(poll);
  view.wordsInput.hidden = open;
  view.openInput.hidden = !open;
  view.openCount.hidden = !open;
  view.words.classList.toggle("is-open-kind", open);
  input.disabled = !canType || full;
  view.wordsSend.disabled = !canType || full;
  view.wordsSend.textContent = collecting ? "Add" : max === 1 && chosen.length ? "Replace" : "Send";
  input.placeholder = full ? "Remove an answer to add another" : final ? "Your answers are in" : open ? "Write your answer" : "Type an answer";
  if (open) renderOpenCount(poll);
  view.answersSubmit.hidden = !collecting;
  view.answersSubmit.disabled = !canType || (list.length === 0 && !squash(input.value));
  view.answersBox.hidden = list.length === 0;
  view.answersTitle.textContent = collecting ? "Your answers (not sent yet)" : final ? "Your final answers" : "Your answers";
  renderAnswerList(poll, list, canType && (collecting || list.length > 1));
  view.words.classList.toggle("is-pending", pending !== undefined);
  view.cloud.hidden = !visible || open;
  view.wall.hidden = !visible || !open;
  if (visible && open) wall.update(poll);
  else if (visible) cloud.update(poll);
}

/* The open answer box's character count, "12 / 280" (a warning near the limit, an error past it). */
function renderOpenCount(poll) {
  var count = countText(view.openInput.value, answerLimit(poll, state.limits));
  view.openCount.textContent = count.text;
  view.openCount.classList.toggle("is-near", count.near);
  view.openCount.classList.toggle("is-over", count.over);
}

var answersKey = "";
function renderAnswerList(poll, list, removable) {
  var key = JSON.stringify([poll.id, list, removable]);
  if (key === answersKey) return;
  answersKey = key;
  view.answers.textContent = "";
  list.forEach(function (answer) {
    var parts = fromTemplate("answer-template");
    var item = parts.root;
    parts.text.textContent = answer;
    var remove = parts.remove;
    if (!removable) remove.remove();
    else {
      remove.setAttribute("aria-label", "Remove “" + answer + "”");
      remove.addEventListener("click", function () {
        var current = state.polls.get(poll.id);
        if (current) removeAnswer(current, answer);
      });
    }
    view.answers.append(item);
  });
}

view.wordsForm.addEventListener("submit", function (event) {
  event.preventDefault();
  sendAnswer();
});
view.wordsInput.addEventListener("input", function () {
  var poll = currentPoll(state);
  if (poll && ui.errors[poll.id]) {
    delete ui.errors[poll.id];
    scheduleRender();
  } else if (poll && collectsAnswers(poll)) {
    scheduleRender(); // Submit turns on as soon as there is something to send
  }
});
view.openInput.addEventListener("input", function () {
  var poll = currentPoll(state);
  if (!poll || poll.kind !== OPEN_KIND) return;
  renderOpenCount(poll);
  if (ui.errors[poll.id]) delete ui.errors[poll.id];
  scheduleRender();
});
view.openInput.addEventListener("keydown", function (event) {
  // Enter sends, as in the one-line box; Shift+Enter is a new line (the server makes it a space).
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    if (view.wordsForm.requestSubmit) view.wordsForm.requestSubmit();
    else sendAnswer();
  }
});
view.answersSubmit.addEventListener("click", submitAnswers);
view.submit.addEventListener("click", submitSelection);

// Countdown ---------------------------------------------------------------------------

var hurried = {}; // poll id -> true once "10 seconds left" was announced

function renderCountdown(poll) {
  var left = timeLeft(poll);
  view.countdown.hidden = left === null;
  if (left === null) return;
  var hurry = left <= HURRY;
  view.countdown.classList.toggle("is-hurry", hurry);
  view.countdownText.textContent = left > 0 ? formatClock(left) + " left" : "Closing…";
  view.countdown.setAttribute("aria-label", left > 0 ? "Voting closes in " + formatClock(left) : "Voting is closing");
  if (hurry && left > 0 && !hurried[poll.id]) {
    hurried[poll.id] = true;
    announce(Math.ceil(left / 1000) + " seconds left to vote.");
  } else if (!hurry) {
    delete hurried[poll.id];
  }
}

var ticker = 0;
/* Runs renderCountdown every TICK ms while the poll has a countdown, and not otherwise. */
function tickWhileCounting(poll) {
  var counting = !!poll && timeLeft(poll) !== null;
  if (counting && !ticker) {
    ticker = setInterval(function () {
      var current = currentPoll(state);
      if (!current || timeLeft(current) === null) {
        clearInterval(ticker);
        ticker = 0;
        if (current) renderCountdown(current);
        return;
      }
      renderCountdown(current);
    }, TICK);
  } else if (!counting && ticker) {
    clearInterval(ticker);
    ticker = 0;
  }
}

// Start --------------------------------------------------------------------------

var connection = new PollConnection({
  hello: function () { return { voter: voter }; },
  onMessage: handle,
  onState: function (connectionState, detail) {
    var was = ui.connection;
    ui.connection = connectionState;
    showStatus(view.status, connectionState, detail);
    qaView.connectionChanged(connectionState);
    quizView.connectionChanged(connectionState);
    if (connectionState !== "open") ui.pending = {};
    if (was !== connectionState && (connectionState === "open" || was === "open")) scheduleRender();
  }
});
var qaView = createParticipantQa({ connection: function () { return connection; }, announce: announce });
var quizView = createParticipantQuiz({ connection: function () { return connection; }, announce: announce });
applyLimits();
connection.start();
