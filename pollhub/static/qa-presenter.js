/* pollhub presenter page: audience Q&A. The Q&A panel in the sidebar and
 * what the stage shows of it.
 *
 * The panel: every question with its upvotes, sorted Popular or Recent;
 * those waiting for approval first (when moderation is on), the answered
 * and the dismissed ones apart (dismissed ones stay for the export and can
 * be restored); moderation and "open for new questions" switches; approve,
 * dismiss, mark answered, highlight (one at a time); and what the stage
 * shows, the current poll or the questions (the "stage" setting, kept by
 * the server, so a second presenter window used as the projector follows).
 *
 * The stage: a highlighted question big with its upvotes (until it is
 * answered or another one is highlighted); while the stage setting is
 * "qa", the published questions, most upvoted first, instead of the poll.
 * The stage element gets data-show="poll" or "qa"; qa.css hides the poll's
 * parts for "qa", so presenter-stage.js needs no change.
 *
 * presenter-app.js hands every message to handle() (true when it changed
 * something) and calls render() with its own.
 */

import { initialQa, reduceQa, groupQuestions, highlighted } from "./qa-state.js";
import { el } from "./dom.js";
import { formatCount, plural } from "./format.js";

var STAGE_MAX = 8; // questions the stage lists at most (besides the highlighted one)
var ORDER_KEY = "pollhub-presenter-qa-order";

var ACTIONS = {
  approve: { type: "approve_question", label: "Approve", error: "Could not approve the question" },
  restore: { type: "approve_question", label: "Restore", error: "Could not restore the question" },
  reopen: { type: "approve_question", label: "Not answered", error: "Could not reopen the question" },
  answer: { type: "answer_question", label: "Answered", error: "Could not mark the question answered" },
  dismiss: { type: "dismiss_question", label: "Dismiss", error: "Could not dismiss the question" },
  highlight: { type: "highlight_question", label: "Highlight", error: "Could not highlight the question" }
};

/* The actions a question in each state offers, in their order on the row. */
var ACTIONS_BY_STATE = {
  waiting: ["approve", "highlight", "dismiss"],
  published: ["highlight", "answer", "dismiss"],
  answered: ["reopen", "dismiss"],
  dismissed: ["restore"]
};

var STATE_TEXT = { waiting: "Waiting", published: "", answered: "Answered", dismissed: "Dismissed" };

/* The Q&A panel and stage; app is the page's wiring (presenter-app.js). */
export function createQaPresenter(app) {
  var $ = function (id) { return document.getElementById(id); };
  var view = {
    stage: $("stage"),
    stageQa: $("stage-qa"),
    highlight: $("stage-highlight"),
    highlightText: $("stage-highlight-text"),
    highlightName: $("stage-highlight-name"),
    highlightUpvotes: $("stage-highlight-upvotes"),
    highlightWord: $("stage-highlight-word"),
    board: $("stage-qa-board"),
    boardList: $("stage-qa-list"),
    boardMore: $("stage-qa-more"),
    boardEmpty: $("stage-qa-empty"),
    count: $("qa-panel-count"),
    open: $("qa-open-toggle"),
    moderation: $("qa-moderation-toggle"),
    stageButtons: Array.from(document.querySelectorAll("#qa-panel [data-stage]")),
    orderButtons: Array.from(document.querySelectorAll("#qa-panel [data-order]")),
    waitingTitle: $("qa-waiting-title"),
    waiting: $("qa-waiting-list"),
    publishedTitle: $("qa-published-title"),
    published: $("qa-published-list"),
    none: $("qa-none"),
    answeredTitle: $("qa-answered-title"),
    answered: $("qa-answered-list"),
    dismissed: $("qa-dismissed"),
    dismissedCount: $("qa-dismissed-count"),
    dismissedList: $("qa-dismissed-list")
  };

  var qa = initialQa();
  var order = readOrder();
  var items = new Map(); // question id -> its row's parts

  function readOrder() {
    try { return localStorage.getItem(ORDER_KEY) === "recent" ? "recent" : "popular"; } catch (e) { return "popular"; }
  }

  function handle(message) {
    var before = qa;
    qa = reduceQa(qa, message);
    return qa !== before;
  }

  /* Sends a presenter command, then renders (the server's answer or a toast). */
  function send(message, what) {
    return app.command(message, what).then(function (reply) {
      app.render();
      return reply;
    });
  }

  function act(name, q) {
    var action = ACTIONS[name];
    var question = name === "highlight" && qa.highlight === q.id ? null : q.id;
    send({ type: action.type, question: question }, action.error);
  }

  // Settings -------------------------------------------------------------------------------

  view.open.addEventListener("change", function () {
    send({ type: "qa_settings", open: view.open.checked }, view.open.checked ? "Could not open questions" : "Could not close questions");
  });
  view.moderation.addEventListener("change", function () {
    send({ type: "qa_settings", moderation: view.moderation.checked }, "Could not change moderation");
  });
  view.stageButtons.forEach(function (button) {
    button.addEventListener("click", function () {
      if (qa.stage !== button.dataset.stage) send({ type: "qa_settings", stage: button.dataset.stage }, "Could not change the big screen");
    });
  });
  view.orderButtons.forEach(function (button) {
    button.addEventListener("click", function () {
      order = button.dataset.order === "recent" ? "recent" : "popular";
      try { localStorage.setItem(ORDER_KEY, order); } catch (e) { /* kept for this page only */ }
      render();
    });
  });

  function renderSettings(connected) {
    view.open.checked = qa.open;
    view.moderation.checked = qa.moderation;
    view.open.disabled = !connected;
    view.moderation.disabled = !connected;
    view.stageButtons.forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.dataset.stage === qa.stage));
      button.disabled = !connected;
    });
    view.orderButtons.forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.dataset.order === order));
    });
  }

  // The panel's lists --------------------------------------------------------------------------

  function buildItem(q) {
    var item = el("li", "qa-admin-item");
    item.dataset.question = q.id;
    var top = el("div", "qa-admin-top");
    var votes = el("span", "qa-admin-votes");
    var badges = el("span", "qa-admin-badges");
    top.append(votes, badges);
    var text = el("p", "qa-admin-text");
    text.id = "qa-admin-text-" + q.id;
    var name = el("p", "qa-admin-name");
    var actions = el("div", "qa-admin-actions");
    item.append(top, text, name, actions);
    var parts = { item: item, votes: votes, badges: badges, text: text, name: name, actions: actions, actionsKey: "", buttons: {} };
    items.set(q.id, parts);
    return parts;
  }

  function buildActions(parts, q) {
    parts.actions.textContent = "";
    parts.buttons = {};
    (ACTIONS_BY_STATE[q.state] || []).forEach(function (name) {
      var button = el("button", "btn btn-small" + (name === "dismiss" ? " btn-danger-soft" : name === "approve" || name === "highlight" ? " btn-primary-soft" : ""), ACTIONS[name].label);
      button.type = "button";
      button.dataset.action = name;
      button.setAttribute("aria-describedby", parts.text.id);
      if (name === "highlight") button.setAttribute("aria-pressed", "false");
      button.addEventListener("click", function () {
        var current = qa.questions.get(q.id);
        if (current) act(name, current);
      });
      parts.actions.append(button);
      parts.buttons[name] = button;
    });
  }

  function updateItem(parts, q, connected) {
    var isHighlight = qa.highlight === q.id;
    var key = String([connected, isHighlight]);
    if (parts.shown === q && parts.key === key) return; // nothing changed: spare the DOM (an event may hold thousands)
    parts.shown = q;
    parts.key = key;
    parts.item.dataset.state = q.state;
    parts.item.classList.toggle("is-highlight", isHighlight);
    parts.votes.textContent = "";
    parts.votes.append(el("strong", "", formatCount(q.upvotes)), " " + (q.upvotes === 1 ? "upvote" : "upvotes"));
    parts.badges.textContent = "";
    if (isHighlight) parts.badges.append(el("span", "badge badge-small badge-current", "On screen"));
    if (STATE_TEXT[q.state]) parts.badges.append(el("span", "badge badge-small" + (q.state === "waiting" ? " badge-closed" : ""), STATE_TEXT[q.state]));
    if (parts.text.textContent !== q.text) parts.text.textContent = q.text;
    parts.name.textContent = q.name || "Anonymous";
    if (parts.actionsKey !== q.state) {
      var hadFocus = parts.actions.contains(document.activeElement);
      buildActions(parts, q);
      parts.actionsKey = q.state;
      if (hadFocus && parts.actions.firstElementChild) parts.actions.firstElementChild.focus();
    }
    Object.keys(parts.buttons).forEach(function (name) {
      parts.buttons[name].disabled = !connected;
    });
    if (parts.buttons.highlight) {
      parts.buttons.highlight.setAttribute("aria-pressed", String(isHighlight));
      parts.buttons.highlight.title = isHighlight ? "Take it off the big screen" : "Show it big on the big screen";
    }
  }

  function fill(parent, list, connected) {
    list.forEach(function (q, index) {
      var parts = items.get(q.id) || buildItem(q);
      updateItem(parts, q, connected);
      if (parent.children[index] !== parts.item) {
        var focused = parts.item.contains(document.activeElement) ? document.activeElement : null;
        parent.insertBefore(parts.item, parent.children[index] || null);
        if (focused && document.activeElement !== focused) focused.focus();
      }
    });
    while (parent.children.length > list.length) parent.lastElementChild.remove();
  }

  function renderLists(connected) {
    items.forEach(function (parts, id) {
      if (!qa.questions.has(id)) {
        parts.item.remove();
        items.delete(id);
      }
    });
    var groups = groupQuestions(qa, order);
    // A question that moves from one list to another leaves the first one before the second takes it.
    [[view.waiting, groups.waiting], [view.published, groups.published], [view.answered, groups.answered], [view.dismissedList, groups.dismissed]].forEach(function (pair) {
      var keep = new Set(pair[1].map(function (q) { return q.id; }));
      Array.from(pair[0].children).forEach(function (child) {
        if (!keep.has(child.dataset.question)) child.remove();
      });
    });
    fill(view.waiting, groups.waiting, connected);
    fill(view.published, groups.published, connected);
    fill(view.answered, groups.answered, connected);
    fill(view.dismissedList, groups.dismissed, connected);
    view.waiting.hidden = view.waitingTitle.hidden = groups.waiting.length === 0;
    view.answered.hidden = view.answeredTitle.hidden = groups.answered.length === 0;
    view.publishedTitle.hidden = groups.published.length === 0;
    view.none.hidden = groups.published.length + groups.waiting.length > 0;
    view.dismissed.hidden = groups.dismissed.length === 0;
    view.dismissedCount.textContent = "(" + formatCount(groups.dismissed.length) + ")";
    var live = groups.waiting.length + groups.published.length;
    view.count.textContent = live ? formatCount(live) : "";
  }

  // The stage --------------------------------------------------------------------------------

  function renderStage() {
    var top = highlighted(qa);
    var board = qa.stage === "qa";
    view.stage.dataset.show = top || board ? "qa" : "poll";
    view.stageQa.hidden = !top && !board;
    view.highlight.hidden = !top;
    if (top) {
      view.highlightText.textContent = top.text;
      view.highlightText.dataset.length = top.text.length > 180 ? "long" : top.text.length > 90 ? "medium" : "short";
      view.highlightName.textContent = top.name || "Anonymous";
      view.highlightUpvotes.textContent = formatCount(top.upvotes);
      view.highlightWord.textContent = top.upvotes === 1 ? "upvote" : "upvotes";
    }
    view.board.hidden = !board;
    if (!board) return;
    var listed = groupQuestions(qa, "popular").published.filter(function (q) { return !top || q.id !== top.id; });
    var shown = listed.slice(0, top ? Math.floor(STAGE_MAX / 2) : STAGE_MAX);
    view.boardList.textContent = "";
    shown.forEach(function (q) {
      var item = el("li", "stage-qa-item");
      item.dataset.question = q.id;
      var votes = el("span", "stage-qa-votes", formatCount(q.upvotes));
      votes.setAttribute("aria-label", plural(q.upvotes, "upvote", "upvotes"));
      var body = el("span", "stage-qa-body");
      body.append(el("span", "stage-qa-text", q.text), el("span", "stage-qa-name", q.name || "Anonymous"));
      item.append(votes, body);
      view.boardList.append(item);
    });
    view.boardEmpty.hidden = listed.length > 0 || !!top;
    view.boardMore.textContent = listed.length > shown.length ? "+ " + formatCount(listed.length - shown.length) + " more" : "";
  }

  function render() {
    var connected = app.connection === "open";
    renderSettings(connected);
    renderLists(connected);
    renderStage();
  }

  return { handle: handle, render: render };
}
