/* pollhub participant page: audience Q&A (the "Q&A" tab).
 *
 * Two views on the page, as tabs: Polls (the page's poll, participant.js)
 * and Q&A (this module). The page opens on Polls while a poll is current,
 * else on Q&A, and goes to Polls when a poll starts (unless a question is
 * being written: the Polls tab then says "New"); the Q&A tab counts the
 * questions that came in since it was last looked at.
 *
 * Q&A: a box to ask (1 to 280 characters once whitespace is collapsed, with
 * a live count; an optional name kept in localStorage, anonymous when
 * empty), the published questions with their upvotes sorted Popular or
 * Recent, and the answered ones apart. One upvote per voter per question,
 * taken back with a second tap; one's own questions offer none. One's own
 * questions waiting for moderation show to oneself alone, marked as
 * waiting. The state comes from the server only (qa-state.js), rebuilt from
 * every welcome.
 *
 * participant.js hands every message to handle() and the connection's
 * state to connectionChanged(); nothing else of it is used.
 */

import { reduceQa, initialQa, groupQuestions, canUpvote, unseenCount, checkQuestion, checkName, qaErrorText } from "./qa-state.js";
import { formatCount, plural } from "./format.js";
import { el, onNextFrame } from "./dom.js";

var NAME_KEY = "pollhub-name";
var ORDER_KEY = "pollhub-qa-order";
var UPVOTE_ICON = "M12 4 4 13h5v7h6v-7h5z";

/* The Q&A view. options: connection() (the page's PollConnection) and announce(text). */
export function createParticipantQa(options) {
  var $ = function (id) { return document.getElementById(id); };
  var view = {
    main: $("main"),
    tabs: $("view-tabs"),
    tabPolls: $("tab-polls"),
    tabQa: $("tab-qa"),
    pollsBadge: $("tab-polls-badge"),
    qaBadge: $("tab-qa-badge"),
    panel: $("qa"),
    form: $("qa-form"),
    text: $("qa-text"),
    count: $("qa-count"),
    name: $("qa-name"),
    closed: $("qa-closed"),
    error: $("qa-error"),
    send: $("qa-send"),
    moderated: $("qa-moderated"),
    sortButtons: Array.from(document.querySelectorAll("#qa .qa-sort-button")),
    voteError: $("qa-vote-error"),
    list: $("qa-list"),
    empty: $("qa-empty"),
    answeredTitle: $("qa-answered-title"),
    answered: $("qa-answered")
  };

  var qa = initialQa();
  var ui = {
    welcomed: false,
    connection: "connecting",
    view: "polls",
    order: readSetting(ORDER_KEY) === "recent" ? "recent" : "popular",
    seen: new Set(), // ids of questions shown on the Q&A tab (or there when the page opened)
    current: null, // the current poll's id
    newPoll: false, // a poll started while Q&A was shown
    asking: false,
    error: "",
    voteError: "",
    pending: {} // question id -> the upvote state on its way to the server
  };
  var items = new Map(); // question id -> its list item's parts

  function readSetting(key) {
    try { return localStorage.getItem(key); } catch (e) { return null; }
  }

  function writeSetting(key, value) {
    try {
      if (value === null) localStorage.removeItem(key);
      else localStorage.setItem(key, value);
    } catch (e) { /* storage off: kept for this page only */ }
  }

  view.name.value = readSetting(NAME_KEY) || "";

  // Messages ---------------------------------------------------------------------

  function handle(message) {
    if (!message || typeof message !== "object") return;
    var before = qa;
    qa = reduceQa(qa, message);
    if (message.type === "welcome") welcome(message);
    else if (message.type === "current") pollChanged(message.poll === undefined ? null : message.poll);
    else if (message.type === "deleted" && message.poll === ui.current) pollChanged(null);
    else if (message.type === "qa") announceSettings(before);
    else if (message.type === "question") announceOwn(before.questions.get(message.question && message.question.id));
    else if (message.type === "questions" && Array.isArray(message.questions)) {
      message.questions.forEach(function (q) { announceOwn(before.questions.get(q && q.id)); });
    }
    if (qa !== before || message.type === "welcome") scheduleRender();
  }

  function welcome(message) {
    var current = message.current === undefined ? null : message.current;
    if (!ui.welcomed) {
      ui.welcomed = true;
      qa.questions.forEach(function (q, id) { ui.seen.add(id); });
      ui.view = current !== null ? "polls" : "qa";
      ui.current = current;
    } else {
      pollChanged(current);
    }
    ui.pending = {};
  }

  /* A poll that starts while Q&A is shown takes the page to Polls, unless a
     question is being written: then the Polls tab says "New" instead. */
  function pollChanged(current) {
    if (current !== null && current !== ui.current && ui.view === "qa") {
      if (writing()) ui.newPoll = true;
      else ui.view = "polls";
    }
    if (current === null) ui.newPoll = false;
    ui.current = current;
    scheduleRender();
  }

  function announceSettings(before) {
    if (before.open !== qa.open) options.announce(qa.open ? "Questions are open again." : "Questions are closed. You can still upvote.");
  }

  /* Tells the asker what became of their question. */
  function announceOwn(held) {
    if (!held || !held.mine) return;
    var now = qa.questions.get(held.id);
    if (!now || now.state === held.state) return;
    if (held.state === "waiting" && now.state === "published") options.announce("Your question was approved: everyone sees it now.");
    if (now.state === "answered") options.announce("Your question was marked answered.");
  }

  function writing() {
    return view.text.value.trim() !== "" || view.form.contains(document.activeElement);
  }

  function connectionChanged(state) {
    ui.connection = state;
    if (state !== "open") ui.pending = {};
    scheduleRender();
  }

  // Tabs ------------------------------------------------------------------------------

  function show(which, focus) {
    ui.view = which;
    if (which === "polls") ui.newPoll = false;
    render();
    if (focus) (which === "qa" ? view.tabQa : view.tabPolls).focus();
  }

  view.tabPolls.addEventListener("click", function () { show("polls"); });
  view.tabQa.addEventListener("click", function () { show("qa"); });
  view.tabs.addEventListener("keydown", function (event) {
    var keys = { ArrowLeft: true, ArrowRight: true, Home: true, End: true };
    if (!keys[event.key]) return;
    event.preventDefault();
    var to = event.key === "Home" ? "polls" : event.key === "End" ? "qa" : ui.view === "qa" ? "polls" : "qa";
    show(to, true);
  });

  function renderTabs() {
    var onQa = ui.view === "qa";
    view.tabs.hidden = !ui.welcomed;
    view.main.dataset.view = ui.view;
    view.panel.hidden = !ui.welcomed || !onQa;
    [[view.tabPolls, !onQa], [view.tabQa, onQa]].forEach(function (pair) {
      pair[0].setAttribute("aria-selected", String(pair[1]));
      pair[0].tabIndex = pair[1] ? 0 : -1;
    });
    if (onQa) qa.questions.forEach(function (q, id) { ui.seen.add(id); });
    var unseen = onQa ? 0 : unseenCount(qa, ui.seen);
    view.qaBadge.hidden = unseen === 0;
    view.qaBadge.textContent = unseen ? formatCount(unseen) : "";
    view.tabQa.setAttribute("aria-label", unseen ? "Q&A, " + plural(unseen, "new question", "new questions") : "Q&A");
    view.pollsBadge.hidden = !ui.newPoll;
    view.tabPolls.setAttribute("aria-label", ui.newPoll ? "Polls, new poll" : "Polls");
  }

  // Asking -------------------------------------------------------------------------------

  function renderAsk(connected) {
    var typed = checkQuestion(view.text.value, qa.limits.question);
    var name = checkName(view.name.value, qa.limits.name);
    var long = typed.problem === "long";
    view.count.textContent = formatCount(typed.length) + " / " + formatCount(qa.limits.question) + (long ? " · too long" : "");
    view.count.classList.toggle("is-over", long);
    view.text.setAttribute("aria-invalid", String(long));
    view.name.setAttribute("aria-invalid", String(name.problem === "long"));
    view.closed.hidden = qa.open;
    view.moderated.hidden = !qa.moderation || !qa.open;
    view.text.disabled = !qa.open;
    view.name.disabled = !qa.open;
    view.send.disabled = !qa.open || !connected || ui.asking || typed.problem !== null || name.problem !== null;
    view.send.textContent = ui.asking ? "Sending…" : "Ask";
    var error = ui.error || (name.problem === "long" ? "Names can be up to " + qa.limits.name + " characters." : "");
    view.error.hidden = !error;
    if (view.error.textContent !== error) view.error.textContent = error; // an alert: set only when it changes
  }

  function ask() {
    var typed = checkQuestion(view.text.value, qa.limits.question);
    var name = checkName(view.name.value, qa.limits.name);
    var connection = options.connection();
    if (ui.asking || !qa.open) return;
    if (typed.problem === "empty") return fail("Write a question first.");
    if (typed.problem === "long") return fail("Questions can be up to " + qa.limits.question + " characters; this one has " + formatCount(typed.length) + ".");
    if (name.problem) return fail("Names can be up to " + qa.limits.name + " characters.");
    if (!connection.isOpen()) return fail("Not connected. Your question can be sent once the page reconnects.");
    ui.asking = true;
    ui.error = "";
    writeSetting(NAME_KEY, name.name);
    render();
    connection.request({ type: "ask", text: typed.text, name: name.name }).then(function (reply) {
      ui.asking = false;
      if (reply.type === "asked") {
        view.text.value = "";
        var waiting = reply.question && reply.question.state === "waiting";
        options.announce(waiting ? "Your question was sent. It shows to others once the presenter approves it." : "Your question was sent.");
      } else if (reply.type === "error") {
        ui.error = qaErrorText(reply);
      }
      render();
    }, function () {
      ui.asking = false;
      fail("Your question could not be sent. Try again once reconnected.");
    });
  }

  function fail(text) {
    ui.error = text;
    render();
    view.text.focus();
  }

  view.form.addEventListener("submit", function (event) {
    event.preventDefault();
    ask();
  });
  view.text.addEventListener("input", function () {
    ui.error = "";
    scheduleRender();
  });
  view.text.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      ask();
    }
  });
  view.name.addEventListener("input", function () {
    var name = checkName(view.name.value, qa.limits.name);
    if (!name.problem) writeSetting(NAME_KEY, name.name);
    ui.error = "";
    scheduleRender();
  });

  // Upvotes ----------------------------------------------------------------------------------

  function toggleUpvote(id) {
    var q = qa.questions.get(id);
    var connection = options.connection();
    if (!q || !canUpvote(q) || ui.pending[id] !== undefined || !connection.isOpen()) return;
    var want = !q.upvoted;
    ui.pending[id] = want;
    ui.voteError = "";
    render();
    connection.request({ type: want ? "upvote" : "unvote", question: id }).then(function (reply) {
      delete ui.pending[id];
      if (reply.type === "error") ui.voteError = qaErrorText(reply);
      render();
    }, function () {
      delete ui.pending[id];
      ui.voteError = "Your upvote could not be sent. It will work again once reconnected.";
      render();
    });
  }

  view.sortButtons.forEach(function (button) {
    button.addEventListener("click", function () {
      ui.order = button.dataset.order === "recent" ? "recent" : "popular";
      writeSetting(ORDER_KEY, ui.order);
      render();
    });
  });

  // The lists ----------------------------------------------------------------------------------

  function buildItem(id) {
    var item = el("li", "qa-item");
    item.dataset.question = id;
    var body = el("div", "qa-item-body");
    var text = el("p", "qa-item-text");
    var meta = el("p", "qa-item-meta");
    body.append(text, meta);
    var button = el("button", "qa-upvote");
    button.type = "button";
    button.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="' + UPVOTE_ICON + '"/></svg>';
    var buttonCount = el("span", "qa-upvote-count", "0");
    button.append(buttonCount);
    button.addEventListener("click", function () { toggleUpvote(id); });
    var votes = el("p", "qa-votes");
    var votesCount = el("span", "qa-votes-count", "0");
    var votesWord = el("span", "qa-votes-word", "upvotes");
    votes.append(votesCount, votesWord);
    item.append(body, button, votes);
    var parts = { item: item, text: text, meta: meta, button: button, buttonCount: buttonCount, votes: votes, votesCount: votesCount, votesWord: votesWord };
    items.set(id, parts);
    return parts;
  }

  function updateItem(parts, q, connected) {
    var upvotable = canUpvote(q);
    var pending = ui.pending[q.id];
    var key = [connected, pending, qa.highlight === q.id];
    if (parts.shown === q && parts.key === String(key)) return; // nothing changed: spare the DOM (an event may hold thousands)
    parts.shown = q;
    parts.key = String(key);
    var pressed = pending !== undefined ? pending : q.upvoted;
    parts.item.dataset.state = q.state;
    parts.item.classList.toggle("is-mine", q.mine);
    parts.item.classList.toggle("is-highlight", qa.highlight === q.id && q.state === "published");
    if (parts.text.textContent !== q.text) parts.text.textContent = q.text;
    parts.meta.textContent = "";
    parts.meta.append(el("span", "qa-item-name", q.name || "Anonymous"));
    if (q.mine) parts.meta.append(el("span", "badge badge-small qa-badge-mine", "Your question"));
    if (q.state === "waiting") parts.meta.append(el("span", "badge badge-small badge-closed qa-badge-waiting", "Waiting for approval"));
    if (qa.highlight === q.id && q.state === "published") parts.meta.append(el("span", "badge badge-small badge-current", "On screen"));
    parts.button.hidden = !upvotable;
    parts.votes.hidden = upvotable;
    parts.button.disabled = !connected;
    parts.button.setAttribute("aria-pressed", String(!!pressed));
    parts.button.classList.toggle("is-pending", pending !== undefined);
    parts.button.setAttribute("aria-label", (pressed ? "Upvoted: " : "Upvote: ") + q.text + " (" + plural(q.upvotes, "upvote", "upvotes") + ")");
    parts.buttonCount.textContent = formatCount(q.upvotes);
    parts.votesCount.textContent = formatCount(q.upvotes);
    parts.votesWord.textContent = q.upvotes === 1 ? " upvote" : " upvotes";
  }

  /* Puts the items of `list` into `parent` in order, reusing them; keeps the focus where it was. */
  function fill(parent, list, connected) {
    list.forEach(function (q, index) {
      var parts = items.get(q.id) || buildItem(q.id);
      updateItem(parts, q, connected);
      if (parent.children[index] !== parts.item) parent.insertBefore(parts.item, parent.children[index] || null);
    });
    while (parent.children.length > list.length) parent.lastElementChild.remove();
  }

  function renderLists(connected) {
    var focused = document.activeElement && document.activeElement.closest ? document.activeElement.closest(".qa-item") : null;
    var focusedId = focused && focused.contains(document.activeElement) ? focused.dataset.question : null;
    var groups = groupQuestions(qa, ui.order);
    var mineWaiting = groups.waiting.filter(function (q) { return q.mine; });
    var shown = mineWaiting.concat(groups.published);
    items.forEach(function (parts, id) {
      if (!qa.questions.has(id)) {
        parts.item.remove();
        items.delete(id);
      }
    });
    fill(view.list, shown, connected);
    fill(view.answered, groups.answered, connected);
    view.empty.hidden = shown.length > 0;
    view.empty.textContent = qa.open ? "No questions yet. Ask the first one!" : "No questions yet.";
    view.answered.hidden = groups.answered.length === 0;
    view.answeredTitle.hidden = groups.answered.length === 0;
    view.sortButtons.forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.dataset.order === ui.order));
    });
    view.voteError.hidden = !ui.voteError;
    if (view.voteError.textContent !== ui.voteError) view.voteError.textContent = ui.voteError;
    if (focusedId && items.has(focusedId) && !items.get(focusedId).item.contains(document.activeElement)) {
      var again = items.get(focusedId).button;
      if (!again.hidden) again.focus();
    }
  }

  // Rendering --------------------------------------------------------------------------------

  function render() {
    renderTabs();
    if (!ui.welcomed) return;
    var connected = ui.connection === "open";
    renderAsk(connected);
    renderLists(connected);
  }

  var scheduleRender = onNextFrame(render);
  render();

  return { handle: handle, connectionChanged: connectionChanged, render: render };
}
