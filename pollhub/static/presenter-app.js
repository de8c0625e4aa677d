/* pollhub presenter page: create and run polls, show the current one big.
 *
 * Opened as /present#token=TOKEN: the token moves to sessionStorage and out of
 * the address bar, and goes in the hello of every (re)connect. Without a
 * token the server accepts, the page shows how to get the right link and
 * nothing else. Like the participant page it rebuilds its state from every
 * welcome, so a reconnect never leaves anything stale.
 *
 * The stage shows the current poll by kind (bars, a scale's columns and
 * average, a word cloud or a wall of open answers, whose answers can be
 * hidden), its countdown, and
 * whether participants can see its results; while they cannot, the stage
 * veils them too (the room sees the projector), until the presenter reveals
 * them or peeks. Previous/Next (and the arrow keys, Space, Page Up/Down of a
 * clicker) step through the polls in the order of the list.
 *
 * This module is the wiring: the token, the connection, the messages through
 * the reducer (state.js), toasts, the confirmation dialog, the keyboard and
 * one render for the components: presenter-stage.js, presenter-list.js,
 * presenter-form.js and presenter-export.js. Each of them gets `app`: the
 * view, the state (app.state, replaced with every message), the connection
 * state (app.connection), command(), toast(), confirmAction(), render().
 */

import { PollConnection } from "./transport.js";
import { initialState, reduce, currentPoll } from "./state.js";
import { timeLeft } from "./format.js";
import { fromTemplate, onNextFrame, showStatus } from "./dom.js";
import { createStage } from "./presenter-stage.js";
import { createList } from "./presenter-list.js";
import { createForm } from "./presenter-form.js";
import { createExport } from "./presenter-export.js";
import { createQaPresenter } from "./qa-presenter.js";
import { createQuizPresenter } from "./quiz-presenter.js";

(function () {
var TOKEN_KEY = "pollhub-token";
var MAX_TOASTS = 4;
var TICK = 250; // ms between two countdown updates
var NEXT_KEYS = { ArrowRight: true, PageDown: true, " ": true };
var PREVIOUS_KEYS = { ArrowLeft: true, PageUp: true };

var $ = function (id) { return document.getElementById(id); };
var view = {
  status: $("status"),
  presence: $("presence"),
  participants: $("participants"),
  participantsWord: $("participants-word"),
  stagePresence: $("stage-presence"),
  toasts: $("toasts"),
  connecting: $("connecting"),
  locked: $("locked"),
  lockedText: $("locked-text"),
  app: $("app"),
  stage: $("stage"),
  qr: $("qr"),
  qrLarge: $("qr-large"),
  qrButton: $("qr-button"),
  qrDialog: $("qr-dialog"),
  qrDialogUrl: $("qr-dialog-url"),
  qrClose: $("qr-close"),
  joinScheme: $("join-scheme"),
  joinHost: $("join-host"),
  fullscreen: $("fullscreen"),
  fullscreenText: $("fullscreen-text"),
  chartEmpty: $("chart-empty"),
  chartEmptyText: $("chart-empty-text"),
  chart: $("chart"),
  chartQuestion: $("chart-question"),
  chartState: $("chart-state"),
  countdown: $("stage-countdown"),
  countdownText: $("stage-countdown-text"),
  audience: $("audience"),
  audienceText: $("audience-text"),
  audiencePeek: $("audience-peek"),
  audienceReveal: $("audience-reveal"),
  audienceHide: $("audience-hide"),
  chartBody: $("chart-body"),
  bars: $("bars"),
  stageScale: $("stage-scale"),
  stageCloud: $("stage-cloud"),
  stageWall: $("stage-wall"),
  chartTotal: $("chart-total"),
  chartTotalLine: $("chart-total-line"),
  chartTotalWord: $("chart-total-word"),
  chartExtra: $("chart-extra"),
  stageNav: $("stage-nav"),
  prev: $("prev-poll"),
  next: $("next-poll"),
  position: $("poll-position"),
  form: $("create-form"),
  question: $("new-question"),
  optionsField: $("options-field"),
  options: $("new-options"),
  optionsHint: $("options-hint"),
  maxChoicesField: $("max-choices-field"),
  maxChoices: $("new-max-choices"),
  scaleField: $("scale-field"),
  scaleMin: $("new-min"),
  scaleMax: $("new-max"),
  maxAnswersField: $("max-answers-field"),
  maxAnswers: $("new-max-answers"),
  results: $("new-results"),
  changes: $("new-changes"),
  showNow: $("show-now"),
  formError: $("form-error"),
  create: $("create"),
  pollList: $("poll-list"),
  pollCount: $("poll-count"),
  noPolls: $("no-polls"),
  keysHint: $("keys-hint"),
  csv: $("download-csv"),
  json: $("download-json"),
  confirm: $("confirm"),
  confirmTitle: $("confirm-title"),
  confirmText: $("confirm-text"),
  confirmOk: $("confirm-ok"),
  confirmCancel: $("confirm-cancel")
};

var app = {
  view: view,
  state: initialState(), // what the server said (state.js)
  connection: "connecting", // the transport's state
  token: null,
  command: command,
  toast: toast,
  confirmAction: confirmAction,
  render: render,
  scheduleRender: null,
  renderCountdowns: renderCountdowns
};
var admin = false;

// The token ------------------------------------------------------------------------

function takeToken() {
  var token = null;
  var hash = location.hash.replace(/^#/, "");
  if (hash) {
    var params = new URLSearchParams(hash);
    token = params.get("token");
    params.delete("token");
    var rest = params.toString();
    history.replaceState(history.state, "", location.pathname + location.search + (rest ? "#" + rest : ""));
  }
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else token = sessionStorage.getItem(TOKEN_KEY);
  } catch (e) { /* storage off: keep the token for this page only */ }
  return token || null;
}

function forgetToken() {
  try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* ignore */ }
}

var token = takeToken();
app.token = token;

function lock(text) {
  admin = false;
  view.connecting.hidden = true;
  view.app.hidden = true;
  view.presence.hidden = true;
  view.status.hidden = true;
  view.locked.hidden = false;
  if (text) view.lockedText.textContent = text;
  document.title = "pollhub · Presenter link needed";
}

function unlock() {
  if (admin) return;
  admin = true;
  view.connecting.hidden = true;
  view.locked.hidden = true;
  view.app.hidden = false;
  view.presence.hidden = false;
  stage.refreshJoin();
  render();
}

// Messages ---------------------------------------------------------------------------

function handle(message) {
  var before = app.state;
  var qaChanged = qa.handle(message); // Q&A (qa-presenter.js)
  var quizChanged = quiz.handle(message); // quizzes (quiz-presenter.js)
  app.state = reduce(app.state, message, performance.now());
  switch (message.type) {
    case "welcome":
      if (admin) stage.refreshJoin();
      form.applyLimits();
      list.applyLimits();
      break;
    case "deleted":
      stage.forget(message.poll);
      break;
    case "hello":
      if (message.admin) unlock();
      else {
        connection.stop();
        lock();
      }
      break;
    case "error":
      if (message.ref === "hello" || (typeof message.ref === "string" && message.ref.indexOf("check") === 0)) {
        if (message.code === "forbidden") {
          forgetToken();
          connection.stop();
          lock("This page needs the presenter link printed by the server when it started. " +
            "The link this page was opened with is not valid (any more): unless it is given a fixed token, " +
            "the server makes a new link each time it starts.");
          return;
        }
      }
      if (message.ref === undefined || message.ref === null) toast(describeError(message));
      return;
    default:
      break;
  }
  if (app.state !== before || qaChanged || quizChanged) scheduleRender();
}

var ERROR_TEXT = {
  bad_message: "The server did not accept that",
  unknown_poll: "That poll does not exist any more",
  unknown_option: "That option does not exist",
  poll_closed: "Voting is closed",
  forbidden: "Not allowed",
  rate_limited: "Too many requests",
  unavailable: "The server is busy or stopping",
  bad_json: "The server could not read a message"
};

function describeError(reply, what) {
  var text = reply.message || ERROR_TEXT[reply.code] || "Something went wrong";
  if (!what) text = text.charAt(0).toUpperCase() + text.slice(1);
  return (what ? what + ": " : "") + text + (/[.!?]$/.test(text) ? "" : ".");
}

// Toasts: errors stay until dismissed ----------------------------------------------

function toast(text) {
  var last = view.toasts.lastElementChild;
  if (last && last.dataset.text === text) {
    var times = Number(last.dataset.times || "1") + 1;
    last.dataset.times = String(times);
    last.querySelector(".toast-times").textContent = "×" + times;
    return;
  }
  var parts = fromTemplate("toast-template");
  var item = parts.root;
  item.dataset.text = text;
  parts.text.textContent = text;
  parts.close.addEventListener("click", function () { item.remove(); });
  view.toasts.append(item);
  while (view.toasts.children.length > MAX_TOASTS) view.toasts.firstElementChild.remove();
}

/* Sends an admin message; shows any error. Resolves with the reply or null. */
function command(message, what) {
  return connection.request(message).then(function (reply) {
    if (reply.type === "error") {
      toast(describeError(reply, what));
      return null;
    }
    return reply;
  }, function (err) {
    toast((what ? what + ": " : "") + (err && err.message === "not connected"
      ? "not connected to the server. Wait for it to reconnect and try again."
      : "no answer from the server. Check the connection and try again."));
    return null;
  });
}

// Rendering -------------------------------------------------------------------------

var scheduleRender = onNextFrame(function () { render(); });
app.scheduleRender = scheduleRender;

function render() {
  if (!admin) return;
  stage.render();
  list.render();
  qa.render();
  quiz.render(); // after the others: it marks the list's quiz rows and may take over the stage
  view.create.disabled = app.connection !== "open";
  var poll = currentPoll(app.state);
  document.title = (poll ? poll.question + " · " : "") + "pollhub presenter";
  tickWhileCounting();
}

/* The stage's big countdown and every poll's own, from the local deadline. */
function renderCountdowns() {
  var now = performance.now();
  stage.renderCountdown(now);
  list.renderCountdown(now);
}

var ticker = 0;
/* Runs renderCountdowns every TICK ms while any poll counts down, and not otherwise. */
function tickWhileCounting() {
  var counting = false;
  app.state.polls.forEach(function (poll) { if (timeLeft(poll) !== null) counting = true; });
  if (counting && !ticker) ticker = setInterval(renderCountdowns, TICK);
  else if (!counting && ticker) {
    clearInterval(ticker);
    ticker = 0;
  }
}

// Keyboard: next and previous poll --------------------------------------------------------

/* True for a target where keys mean something else: typing, choosing, pressing. */
function keysBelongTo(target, key) {
  if (!target || !target.closest) return false;
  if (target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true'], [role='radio'], [role='slider']")) return true;
  return key === " " && !!target.closest("button, a[href], summary, [role='button'], [tabindex]:not(main)");
}

document.addEventListener("keydown", function (event) {
  if (!admin || event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
  var by = NEXT_KEYS[event.key] ? 1 : PREVIOUS_KEYS[event.key] ? -1 : 0;
  if (!by || keysBelongTo(event.target, event.key)) return;
  if (view.confirm.open || view.qrDialog.open) return;
  event.preventDefault();
  if (!event.repeat) stage.step(by);
});

// Confirmation dialog ----------------------------------------------------------------

var confirmResolve = null;
function confirmAction(title, text, okLabel) {
  if (confirmResolve) confirmResolve(false);
  view.confirmTitle.textContent = title;
  view.confirmText.textContent = text;
  view.confirmOk.textContent = okLabel;
  return new Promise(function (resolve) {
    confirmResolve = resolve;
    if (typeof view.confirm.showModal === "function") {
      view.confirm.showModal();
      view.confirmCancel.focus();
    } else {
      confirmResolve = null;
      resolve(window.confirm(title + "\n\n" + text));
    }
  });
}
function closeConfirm(answer) {
  var resolve = confirmResolve;
  confirmResolve = null;
  if (view.confirm.open) view.confirm.close();
  if (resolve) resolve(answer);
}
view.confirmOk.addEventListener("click", function () { closeConfirm(true); });
view.confirmCancel.addEventListener("click", function () { closeConfirm(false); });
view.confirm.addEventListener("close", function () { closeConfirm(false); });

// Start ----------------------------------------------------------------------------------

var stage = createStage(app);
var list = createList(app);
var form = createForm(app);
createExport(app);
var qa = createQaPresenter(app);
var quiz = createQuizPresenter(app);
form.applyLimits();
form.updateKindFields();

var connection = new PollConnection({
  hello: function () { return { token: token }; },
  onMessage: handle,
  onState: function (connectionState, detail) {
    app.connection = connectionState;
    showStatus(view.status, connectionState, detail);
    scheduleRender();
  }
});
if (token) connection.start();
else lock();
})();
