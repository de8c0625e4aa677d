/* pollhub presenter page: create and run polls, show the current one big.
 *
 * Opened as /present#token=TOKEN: the token moves to sessionStorage and out of
 * the address bar, and goes in the hello of every (re)connect. Without a
 * token the server accepts, the page shows how to get the right link and
 * nothing else. Like the participant page it rebuilds its state from every
 * welcome, so a reconnect never leaves anything stale.
 *
 * The stage shows the current poll by kind (bars, a scale's columns and
 * average, a word cloud whose answers can be hidden), its countdown, and
 * whether participants can see its results; while they cannot, the stage
 * veils them too (the room sees the projector), until the presenter reveals
 * them or peeks. Previous/Next (and the arrow keys, Space, Page Up/Down of a
 * clicker) step through the polls in the order of the list.
 */
"use strict";

(function () {
  var P = window.Pollhub;
  var TOKEN_KEY = "pollhub-token";
  var MAX_TOASTS = 4;
  var TICK = 250; // ms between two countdown updates
  var HURRY = 10000; // ms left when a countdown turns urgent
  var QUICK_TIMERS = [30, 60]; // seconds, the one-click countdowns
  var MAX_CLOSE_AFTER = 86400; // seconds, the server's longest countdown
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

  var state = {
    admin: false,
    connection: "connecting",
    polls: new Map(), // id -> poll, in the server's poll order
    seq: new Map(),
    current: null,
    participants: null,
    peek: {}, // poll id -> true: show its results on the stage although participants cannot see them
    joinUrl: location.origin + "/"
  };

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

  function lock(text) {
    state.admin = false;
    view.connecting.hidden = true;
    view.app.hidden = true;
    view.presence.hidden = true;
    view.status.hidden = true;
    view.locked.hidden = false;
    if (text) view.lockedText.textContent = text;
    document.title = "pollhub · Presenter link needed";
  }

  function unlock() {
    if (state.admin) return;
    state.admin = true;
    view.connecting.hidden = true;
    view.locked.hidden = true;
    view.app.hidden = false;
    view.presence.hidden = false;
    refreshJoin();
    render();
  }

  // Messages ---------------------------------------------------------------------------

  function handle(message) {
    if (P.applyPollMessage(state, message)) {
      if (message.type === "welcome" && state.admin) refreshJoin();
      if (message.type === "deleted") delete state.peek[message.poll];
      scheduleRender();
      return;
    }
    switch (message.type) {
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
        break;
      case "presence":
        state.participants = message.participants;
        break;
      default:
        return;
    }
    scheduleRender();
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
    var item = P.el("div", "toast");
    item.setAttribute("role", "alert");
    item.dataset.text = text;
    var icon = P.el("span", "toast-icon");
    icon.setAttribute("aria-hidden", "true");
    icon.textContent = "!";
    var message = P.el("p", "toast-text", text);
    var times = P.el("span", "toast-times");
    var close = P.el("button", "toast-close");
    close.type = "button";
    close.setAttribute("aria-label", "Dismiss");
    close.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M18.3 5.7 12 12l6.3 6.3-1.4 1.4L10.6 13.4 4.3 19.7l-1.4-1.4L9.2 12 2.9 5.7l1.4-1.4 6.3 6.3 6.3-6.3z"/></svg>';
    close.addEventListener("click", function () { item.remove(); });
    item.append(icon, message, times, close);
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

  // Who sees the results --------------------------------------------------------------

  /* Whether participants can see a poll's results now: see is "yes", "some"
     (those who voted) or "no"; text says it in words, short as a badge
     ("" when nothing needs saying); reveal: a reveal would show them. */
  function audience(poll) {
    var mode = poll.results || "always";
    if (mode === "always") return { see: "yes", text: "Participants see the results", short: "", reveal: false };
    if (poll.revealed) return { see: "yes", text: "Revealed: participants see the results", short: "Revealed", reveal: false };
    if (mode === "after_vote" && poll.open) return { see: "some", text: "Participants see the results once they vote", short: "Results after vote", reveal: true };
    if (mode === "after_close" && poll.open) return { see: "no", text: "Hidden from participants until voting closes", short: "Hidden until closed", reveal: true };
    if (mode === "hidden") return { see: "no", text: "Hidden from participants", short: "Hidden", reveal: true };
    return { see: "yes", text: "Participants see the results: voting is closed", short: "", reveal: false };
  }

  var RESULTS_TEXT = {
    always: "Always visible",
    after_vote: "After voting",
    after_close: "When voting closes",
    hidden: "Hidden until revealed"
  };

  var KIND_TEXT = {
    single: "Single choice",
    multiple: "Multiple choice",
    counter: "Counter",
    scale: "Scale",
    words: "Word cloud"
  };

  // Rendering -------------------------------------------------------------------------

  var scheduleRender = P.onNextFrame(function () { render(); });

  function render() {
    if (!state.admin) return;
    renderPresence();
    renderChart();
    renderList();
    var connected = state.connection === "open";
    view.create.disabled = !connected;
    var poll = P.currentPoll(state);
    document.title = (poll ? poll.question + " · " : "") + "pollhub presenter";
    tickWhileCounting();
  }

  function renderPresence() {
    var n = state.participants;
    view.participants.textContent = n === null ? "–" : P.formatCount(n);
    view.participantsWord.textContent = n === 1 ? "participant" : "participants";
    view.stagePresence.hidden = n === null;
    view.stagePresence.textContent = n === null ? "" : P.plural(n, "person", "people") + " joined";
  }

  var chartRendered = { pollId: null, key: "", rows: new Map() };
  var stageScale = new P.ScaleChart(view.stageScale);
  var stageCloud = new P.WordCloud(view.stageCloud, { onPick: confirmHide, emptyText: "No answers yet." });

  function renderChart() {
    var poll = P.currentPoll(state);
    var connected = state.connection === "open";
    view.chart.hidden = !poll;
    view.chartTotalLine.hidden = !poll;
    view.chartEmpty.hidden = !!poll;
    renderNav(poll);
    if (!poll) {
      view.chartEmptyText.textContent = state.polls.size ? "Pick a poll on the right and press “Show”, or use Next." : "Create a poll to get started.";
      chartRendered.pollId = null;
      return;
    }
    view.chart.dataset.kind = poll.kind;
    view.chartQuestion.textContent = poll.question;
    view.chartQuestion.dataset.length = poll.question.length > 160 ? "long" : poll.question.length > 90 ? "medium" : "short";
    view.chartState.textContent = poll.open ? (poll.kind === "counter" ? "Tap to count" : "Voting open") : "Voting closed";
    view.chartState.className = "badge " + (poll.open ? "badge-open" : "badge-closed");

    var who = audience(poll);
    var peeking = !!state.peek[poll.id];
    view.audience.dataset.see = who.see;
    view.audienceText.textContent = who.text;
    view.audienceReveal.hidden = !who.reveal;
    view.audienceReveal.disabled = !connected;
    view.audienceHide.hidden = !(poll.revealed && poll.results !== "always");
    view.audienceHide.disabled = !connected;
    view.audiencePeek.hidden = who.see === "yes";
    view.audiencePeek.setAttribute("aria-pressed", String(peeking));
    view.audiencePeek.textContent = peeking ? "Veil here" : "Show here";
    view.audiencePeek.title = peeking ? "Blur the results on this screen again" : "Show the results on this screen only (the room sees it)";
    var veiled = who.see !== "yes" && !peeking;
    view.chartBody.classList.toggle("is-veiled", veiled);
    view.chartBody.inert = veiled;

    view.bars.hidden = !P.hasOptions(poll);
    view.stageScale.hidden = poll.kind !== "scale";
    view.stageCloud.hidden = poll.kind !== "words";
    if (P.hasOptions(poll)) renderBars(poll);
    else if (poll.kind === "scale") stageScale.update(poll);
    else if (poll.kind === "words") stageCloud.update(poll);

    var byVoters = poll.kind !== "single" && poll.kind !== "counter";
    var shown = byVoters ? P.votersOf(poll) : poll.total || 0;
    view.chartTotal.textContent = P.formatCount(shown);
    view.chartTotalWord.textContent = byVoters ? (shown === 1 ? "voter" : "voters") : shown === 1 ? "vote" : "votes";
    view.chartExtra.textContent = poll.kind === "words" ? " · " + P.plural(poll.total || 0, "answer", "answers") : "";
    renderCountdown();
  }

  function renderBars(poll) {
    var key = poll.options.map(function (o) { return o.id + "\u0000" + o.label; }).join("\u0001");
    if (chartRendered.pollId !== poll.id || chartRendered.key !== key) {
      view.bars.textContent = "";
      chartRendered.rows = new Map();
      poll.options.forEach(function (option, index) {
        var row = P.el("li", "bar");
        row.dataset.option = option.id;
        row.dataset.index = String(index % 8);
        var text = P.el("div", "bar-text");
        var label = P.el("span", "bar-label", option.label);
        var figures = P.el("span", "bar-figures");
        var pct = P.el("span", "bar-pct", "0%");
        var count = P.el("span", "bar-count", "0");
        figures.append(pct, count);
        text.append(label, figures);
        var track = P.el("div", "bar-track");
        track.setAttribute("aria-hidden", "true");
        var fill = P.el("div", "bar-fill");
        track.append(fill);
        row.append(text, track);
        view.bars.append(row);
        chartRendered.rows.set(option.id, { row: row, pct: pct, count: count, fill: fill });
      });
      chartRendered.pollId = poll.id;
      chartRendered.key = key;
      var n = poll.options.length;
      view.bars.dataset.size = n <= 4 ? "large" : n <= 8 ? "medium" : n <= 14 ? "small" : "tiny";
    }
    // A multiple choice poll shows each option's share of the voters (they add up to more than 100 %).
    var base = poll.kind === "multiple" ? P.votersOf(poll) : poll.total || 0;
    var counts = poll.counts || {};
    var max = 0;
    poll.options.forEach(function (o) { max = Math.max(max, counts[o.id] || 0); });
    poll.options.forEach(function (option) {
      var parts = chartRendered.rows.get(option.id);
      var n = counts[option.id] || 0;
      parts.pct.textContent = P.percent(n, base) + "%";
      parts.count.textContent = P.plural(n, "vote", "votes");
      parts.fill.style.width = (base > 0 ? Math.min(100, (100 * n) / base) : 0) + "%";
      parts.row.classList.toggle("is-leading", n > 0 && n === max);
    });
  }

  /* Previous / Next under the chart, and where the current poll is in the order. */
  function renderNav(poll) {
    var ids = Array.from(state.polls.keys());
    var at = poll ? ids.indexOf(poll.id) : -1;
    var connected = state.connection === "open";
    view.stageNav.hidden = ids.length === 0;
    view.keysHint.hidden = ids.length < 2;
    view.position.textContent = at >= 0 ? (at + 1) + " / " + ids.length : "";
    view.position.setAttribute("aria-label", at >= 0 ? "Poll " + (at + 1) + " of " + ids.length : "");
    view.prev.disabled = !connected || at === 0;
    view.next.disabled = !connected || (at >= 0 && at === ids.length - 1);
  }

  // Countdowns ------------------------------------------------------------------------------

  /* The stage's big countdown and every poll's own, from the local deadline. */
  function renderCountdown() {
    var now = performance.now();
    var poll = P.currentPoll(state);
    var left = poll ? P.timeLeft(poll, now) : null;
    view.countdown.hidden = left === null;
    if (left !== null) {
      view.countdownText.textContent = P.formatClock(left);
      view.countdown.classList.toggle("is-hurry", left <= HURRY);
      view.countdown.setAttribute("aria-label", "Voting closes in " + P.formatClock(left));
    }
    listItems.forEach(function (parts, id) {
      var itemPoll = state.polls.get(id);
      var itemLeft = itemPoll ? P.timeLeft(itemPoll, now) : null;
      parts.running.hidden = itemLeft === null;
      parts.quick.hidden = itemLeft !== null;
      if (itemLeft !== null) parts.clock.textContent = P.formatClock(itemLeft);
    });
  }

  var ticker = 0;
  /* Runs renderCountdown every TICK ms while any poll counts down, and not otherwise. */
  function tickWhileCounting() {
    var counting = false;
    state.polls.forEach(function (poll) { if (P.timeLeft(poll) !== null) counting = true; });
    if (counting && !ticker) ticker = setInterval(renderCountdown, TICK);
    else if (!counting && ticker) {
      clearInterval(ticker);
      ticker = 0;
    }
  }

  // The poll list -----------------------------------------------------------------------------

  var listItems = new Map(); // poll id -> {item, ...}

  function renderList() {
    var connected = state.connection === "open";
    var ids = Array.from(state.polls.keys());
    view.noPolls.hidden = state.polls.size > 0;
    view.pollCount.textContent = state.polls.size ? String(state.polls.size) : "";
    listItems.forEach(function (parts, id) {
      if (!state.polls.has(id)) {
        parts.item.remove();
        listItems.delete(id);
      }
    });
    var focused = document.activeElement;
    var previous = null;
    state.polls.forEach(function (poll, id) {
      var parts = listItems.get(id) || buildItem(id);
      var isCurrent = id === state.current;
      var who = audience(poll);
      var at = ids.indexOf(id);
      parts.item.classList.toggle("is-current", isCurrent);
      parts.item.classList.toggle("is-closed", !poll.open);
      parts.question.textContent = poll.question;
      parts.onScreen.hidden = !isCurrent;
      parts.openBadge.textContent = poll.open ? "Open" : "Closed";
      parts.openBadge.className = "badge badge-small " + (poll.open ? "badge-open" : "badge-closed");
      parts.kindBadge.textContent = KIND_TEXT[poll.kind] || poll.kind;
      parts.kindBadge.hidden = poll.kind === "single";
      parts.lockedBadge.hidden = poll.changes !== "locked";
      parts.seeBadge.hidden = !who.short;
      parts.seeBadge.textContent = who.short;
      parts.seeBadge.className = "badge badge-small " + (who.see === "yes" ? "badge-seen" : "badge-unseen");
      parts.total.textContent = itemTotal(poll);
      parts.show.hidden = isCurrent;
      parts.show.disabled = !connected;
      parts.toggle.textContent = poll.open ? "Close voting" : "Open voting";
      parts.toggle.dataset.action = poll.open ? "close_poll" : "open_poll";
      parts.toggle.disabled = !connected;
      parts.reveal.hidden = !who.reveal;
      parts.reveal.disabled = !connected;
      parts.unreveal.hidden = !(poll.revealed && poll.results !== "always");
      parts.unreveal.disabled = !connected;
      parts.reset.disabled = !connected || !P.votersOf(poll);
      parts.remove.disabled = !connected;
      parts.up.disabled = !connected || at === 0;
      parts.down.disabled = !connected || at === ids.length - 1;
      parts.timerButtons.forEach(function (b) { b.disabled = !connected; });
      // A select whose change is on its way keeps the new value until the server answers.
      if (!parts.results.dataset.sending) parts.results.value = poll.results || "always";
      parts.results.disabled = !connected;
      if (!parts.changes.dataset.sending) parts.changes.value = poll.changes || "allowed";
      parts.changes.disabled = !connected;
      // Keep the DOM order the same as the polls' order without moving nodes needlessly.
      var expected = previous ? previous.nextElementSibling : view.pollList.firstElementChild;
      if (expected !== parts.item) {
        if (previous) previous.after(parts.item);
        else view.pollList.prepend(parts.item);
      }
      previous = parts.item;
    });
    // Moving a node takes the focus out of it: give it back (to the other arrow at either end).
    if (focused && focused !== document.activeElement && view.pollList.contains(focused)) {
      if (focused.disabled && focused.dataset.action === "move") {
        var other = focused.parentElement.querySelector('[data-action="move"]:not(:disabled)');
        if (other) focused = other;
      }
      focused.focus();
    }
  }

  function itemTotal(poll) {
    var voters = P.votersOf(poll);
    switch (poll.kind) {
      case "counter":
        return P.plural(poll.total || 0, "vote", "votes") + " · " + P.plural(poll.options.length, "option", "options");
      case "single":
        return P.plural(poll.total || 0, "vote", "votes") + " · " + P.plural(poll.options.length, "option", "options");
      case "multiple":
        return P.plural(voters, "voter", "voters") + " · up to " + P.formatCount(poll.max_choices || poll.options.length) + " of " + P.plural(poll.options.length, "option", "options");
      case "scale":
        return P.plural(voters, "voter", "voters") + " · " + poll.min + " to " + poll.max + " · average " + P.formatMean(poll.mean);
      case "words":
        return P.plural(voters, "voter", "voters") + " · " + P.plural(poll.total || 0, "answer", "answers");
      default:
        return P.plural(voters, "voter", "voters");
    }
  }

  var ICON_UP = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M7.4 15.4 6 14l6-6 6 6-1.4 1.4-4.6-4.6z"/></svg>';
  var ICON_DOWN = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M7.4 8.6 6 10l6 6 6-6-1.4-1.4-4.6 4.6z"/></svg>';

  /* A button that moves its poll `by` places in the order (-1 up, 1 down). */
  function moveButton(by, label, icon) {
    var button = P.el("button", "btn btn-small btn-icon");
    button.type = "button";
    button.dataset.action = "move";
    button.dataset.by = String(by);
    button.setAttribute("aria-label", label);
    button.title = label + " in the order";
    button.innerHTML = icon;
    return button;
  }

  function buildItem(id) {
    var item = P.el("li", "poll-item");
    item.dataset.poll = id;
    var head = P.el("div", "poll-item-head");
    var top = P.el("div", "poll-item-top");
    var badges = P.el("div", "poll-item-badges");
    var onScreen = P.el("span", "badge badge-small badge-current", "On screen");
    var openBadge = P.el("span", "badge badge-small");
    var kindBadge = P.el("span", "badge badge-small badge-kind", "Counter");
    var lockedBadge = P.el("span", "badge badge-small badge-locked", "Final votes");
    var seeBadge = P.el("span", "badge badge-small");
    badges.append(onScreen, openBadge, kindBadge, lockedBadge, seeBadge);
    var moves = P.el("div", "poll-item-move");
    var up = moveButton(-1, "Move up", ICON_UP);
    var down = moveButton(1, "Move down", ICON_DOWN);
    moves.append(up, down);
    top.append(badges, moves);
    var question = P.el("h3", "poll-item-question");
    var total = P.el("p", "poll-item-total");
    head.append(top, question, total);

    var actions = P.el("div", "poll-item-actions");
    function action(name, text, extra) {
      var b = P.el("button", "btn btn-small" + (extra ? " " + extra : ""), text);
      b.type = "button";
      b.dataset.action = name;
      actions.append(b);
      return b;
    }
    var show = action("set_current", "Show", "btn-primary-soft");
    show.title = "Show this poll on the big screen and on every phone";
    var toggle = action("close_poll", "Close voting");
    var reveal = action("reveal_poll", "Reveal results", "btn-reveal");
    reveal.title = "Show the results to every participant now";
    var unreveal = action("unreveal", "Hide results");
    unreveal.title = "Take the results away from participants again";
    var reset = action("reset_poll", "Reset");
    var remove = action("delete_poll", "Delete", "btn-danger-soft");

    // Countdown: open (or keep open) for a while, then close by itself.
    var timer = P.el("div", "poll-item-timer");
    var quick = P.el("div", "timer-quick");
    var timerLabel = P.el("span", "timer-label", "Open for");
    timerLabel.id = "timer-label-" + id;
    quick.setAttribute("role", "group");
    quick.setAttribute("aria-labelledby", timerLabel.id);
    quick.append(timerLabel);
    var timerButtons = [];
    QUICK_TIMERS.forEach(function (seconds) {
      var b = P.el("button", "btn btn-small", seconds + " s");
      b.type = "button";
      b.dataset.action = "timer";
      b.dataset.seconds = String(seconds);
      b.setAttribute("aria-label", "Open for " + seconds + " seconds");
      quick.append(b);
      timerButtons.push(b);
    });
    var customToggle = P.el("button", "btn btn-small", "Custom…");
    customToggle.type = "button";
    customToggle.dataset.action = "custom-timer";
    customToggle.setAttribute("aria-expanded", "false");
    quick.append(customToggle);
    timerButtons.push(customToggle);
    var custom = P.el("form", "timer-custom");
    custom.hidden = true;
    custom.noValidate = true;
    var customInput = P.el("input", "input-number");
    customInput.type = "number";
    customInput.min = "1";
    customInput.max = String(MAX_CLOSE_AFTER);
    customInput.step = "1";
    customInput.inputMode = "numeric";
    customInput.placeholder = "90";
    customInput.setAttribute("aria-label", "Seconds to stay open");
    var customUnit = P.el("span", "timer-unit", "seconds");
    customUnit.setAttribute("aria-hidden", "true");
    var customStart = P.el("button", "btn btn-small btn-primary-soft", "Start");
    customStart.type = "submit";
    custom.append(customInput, customUnit, customStart);
    timerButtons.push(customStart);
    quick.append(custom);
    var running = P.el("div", "timer-running");
    running.hidden = true;
    var runningText = P.el("span", "timer-label", "Closes in ");
    var clock = P.el("strong", "timer-clock", "");
    runningText.append(clock);
    var stop = P.el("button", "btn btn-small", "Stop countdown");
    stop.type = "button";
    stop.dataset.action = "stop-timer";
    stop.title = "Keep voting open with no countdown";
    running.append(runningText, stop);
    timerButtons.push(stop);
    timer.append(quick, running);
    custom.addEventListener("submit", function (event) {
      event.preventDefault();
      var seconds = Math.round(Number(customInput.value));
      if (!customInput.value || !isFinite(seconds) || seconds < 1 || seconds > MAX_CLOSE_AFTER) {
        customInput.setAttribute("aria-invalid", "true");
        toast("A countdown is 1 to " + P.formatCount(MAX_CLOSE_AFTER) + " seconds.");
        customInput.focus();
        return;
      }
      customInput.removeAttribute("aria-invalid");
      command({ type: "open_poll", poll: id, close_after: seconds }, "Could not start the countdown").then(function (reply) {
        if (!reply) return;
        custom.hidden = true;
        customToggle.setAttribute("aria-expanded", "false");
        customInput.value = "";
      });
    });

    // Settings: who sees the results, whether votes can change.
    var settings = P.el("details", "poll-item-settings");
    var summary = P.el("summary", "", "Settings");
    var grid = P.el("div", "settings-grid");
    var resultsLabel = P.el("label", "", "Results");
    var results = P.el("select");
    results.id = "results-" + id;
    results.dataset.setting = "results";
    resultsLabel.htmlFor = results.id;
    Object.keys(RESULTS_TEXT).forEach(function (value) {
      var o = P.el("option", "", RESULTS_TEXT[value]);
      o.value = value;
      results.append(o);
    });
    var changesLabel = P.el("label", "", "Votes");
    var changes = P.el("select");
    changes.id = "changes-" + id;
    changes.dataset.setting = "changes";
    changesLabel.htmlFor = changes.id;
    [["allowed", "Can be changed"], ["locked", "Final once cast"]].forEach(function (pair) {
      var o = P.el("option", "", pair[1]);
      o.value = pair[0];
      changes.append(o);
    });
    grid.append(resultsLabel, results, changesLabel, changes);
    settings.append(summary, grid);

    item.append(head, actions, timer, settings);
    var parts = {
      item: item, question: question, total: total, onScreen: onScreen, openBadge: openBadge, kindBadge: kindBadge,
      lockedBadge: lockedBadge, seeBadge: seeBadge, show: show, toggle: toggle, reveal: reveal, unreveal: unreveal,
      reset: reset, remove: remove, up: up, down: down, quick: quick, running: running, clock: clock,
      timerButtons: timerButtons, custom: custom, customToggle: customToggle, customInput: customInput,
      results: results, changes: changes
    };
    listItems.set(id, parts);
    return parts;
  }

  // Actions -------------------------------------------------------------------------------------

  var ACTION_ERRORS = {
    set_current: "Could not show the poll",
    open_poll: "Could not open voting",
    close_poll: "Could not close voting",
    reveal_poll: "Could not reveal the results",
    unreveal: "Could not hide the results",
    reset_poll: "Could not reset the poll",
    delete_poll: "Could not delete the poll",
    timer: "Could not start the countdown",
    "stop-timer": "Could not stop the countdown"
  };

  view.pollList.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button || button.disabled) return;
    var item = button.closest("[data-poll]");
    var poll = item && state.polls.get(item.dataset.poll);
    if (!poll) return;
    var action = button.dataset.action;
    var what = ACTION_ERRORS[action];
    var go = function () { return command({ type: action, poll: poll.id }, what); };
    switch (action) {
      case "delete_poll":
        confirmAction("Delete this poll?", "“" + poll.question + "”" + (P.votersOf(poll) ? " and its " + P.plural(P.votersOf(poll), "voter", "voters") + "’ votes" : "") + " will be gone for good.", "Delete poll").then(function (yes) { if (yes) go(); });
        break;
      case "reset_poll":
        confirmAction("Reset the votes?", "All " + (poll.kind === "single" || poll.kind === "counter" ? P.plural(poll.total || 0, "vote", "votes") : "votes of " + P.plural(P.votersOf(poll), "voter", "voters")) + " on “" + poll.question + "” will be removed. The poll stays.", "Reset votes").then(function (yes) { if (yes) go(); });
        break;
      case "unreveal":
        hideAgain(poll);
        break;
      case "move":
        move(poll.id, Number(button.dataset.by));
        break;
      case "timer":
        command({ type: "open_poll", poll: poll.id, close_after: Number(button.dataset.seconds) }, what);
        break;
      case "stop-timer":
        command({ type: "open_poll", poll: poll.id }, what);
        break;
      case "custom-timer":
        var parts = listItems.get(poll.id);
        parts.custom.hidden = !parts.custom.hidden;
        button.setAttribute("aria-expanded", String(!parts.custom.hidden));
        if (!parts.custom.hidden) parts.customInput.focus();
        break;
      default:
        go();
    }
  });

  view.pollList.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-setting]");
    if (!select) return;
    var item = select.closest("[data-poll]");
    var poll = item && state.polls.get(item.dataset.poll);
    if (!poll) return;
    var message = { type: "update_poll", poll: poll.id };
    message[select.dataset.setting] = select.value;
    select.dataset.sending = "1";
    command(message, "Could not change the setting").then(function () {
      delete select.dataset.sending;
      scheduleRender(); // shows the server's setting (the old one after a refusal)
    });
  });

  /* Takes revealed results away from participants again: setting the results mode (even to the same) un-reveals. */
  function hideAgain(poll) {
    return command({ type: "update_poll", poll: poll.id, results: poll.results }, ACTION_ERRORS.unreveal);
  }

  /* Moves a poll one place up (-1) or down (+1) in the order. */
  function move(pollId, by) {
    var ids = Array.from(state.polls.keys());
    var at = ids.indexOf(pollId);
    var to = at + by;
    if (at < 0 || to < 0 || to >= ids.length) return;
    ids.splice(at, 1);
    ids.splice(to, 0, pollId);
    command({ type: "order_polls", polls: ids }, "Could not move the poll");
  }

  /* The next (+1) or previous (-1) poll in the order becomes the current one. */
  function step(by) {
    if (state.connection !== "open" || !state.polls.size) return;
    command({ type: by > 0 ? "next_poll" : "previous_poll" }, by > 0 ? "Could not go to the next poll" : "Could not go back");
  }

  function confirmHide(text, count) {
    var poll = P.currentPoll(state);
    if (!poll || poll.kind !== "words") return;
    var pollId = poll.id;
    confirmAction("Hide this answer?", "“" + text + "” (" + P.plural(count, "answer", "answers") + ") disappears from every screen and stays out of the results of this poll.", "Hide answer").then(function (yes) {
      if (yes) command({ type: "hide_answer", poll: pollId, text: text }, "Could not hide the answer");
    });
  }

  view.audienceReveal.addEventListener("click", function () {
    var poll = P.currentPoll(state);
    if (poll) command({ type: "reveal_poll", poll: poll.id }, ACTION_ERRORS.reveal_poll);
  });
  view.audienceHide.addEventListener("click", function () {
    var poll = P.currentPoll(state);
    if (poll) hideAgain(poll);
  });
  view.audiencePeek.addEventListener("click", function () {
    var poll = P.currentPoll(state);
    if (!poll) return;
    state.peek[poll.id] = !state.peek[poll.id];
    render();
  });
  view.prev.addEventListener("click", function () { step(-1); });
  view.next.addEventListener("click", function () { step(1); });

  // Keyboard: next and previous poll --------------------------------------------------------

  /* True for a target where keys mean something else: typing, choosing, pressing. */
  function keysBelongTo(target, key) {
    if (!target || !target.closest) return false;
    if (target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true'], [role='radio'], [role='slider']")) return true;
    return key === " " && !!target.closest("button, a[href], summary, [role='button'], [tabindex]:not(main)");
  }

  document.addEventListener("keydown", function (event) {
    if (!state.admin || event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    var by = NEXT_KEYS[event.key] ? 1 : PREVIOUS_KEYS[event.key] ? -1 : 0;
    if (!by || keysBelongTo(event.target, event.key)) return;
    if (view.confirm.open || view.qrDialog.open) return;
    event.preventDefault();
    if (!event.repeat) step(by);
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

  // Creating a poll ------------------------------------------------------------------------

  function squash(text) {
    return text.replace(/\s+/g, " ").trim();
  }

  function optionLines() {
    return view.options.value.split(/\r?\n/).map(squash).filter(function (line) { return line.length > 0; });
  }

  function chosenKind() {
    return view.form.querySelector("input[name=kind]:checked").value;
  }

  /* A whole number from a number field, or null when it is empty; NaN when it is not a whole number. */
  function wholeNumber(input) {
    var text = input.value.trim();
    if (!text) return null;
    var n = Number(text);
    return Number.isInteger(n) ? n : NaN;
  }

  /* An error message for the form as it is, or null when it can be sent. */
  function formProblem(question, kind, options) {
    if (!question) return { field: view.question, text: "Write a question." };
    if (question.length > 300) return { field: view.question, text: "The question is longer than 300 characters." };
    if (P.hasOptions({ kind: kind })) {
      if (options.length < 2) return { field: view.options, text: "Write at least two options, one per line." };
      if (options.length > 32) return { field: view.options, text: "A poll has at most 32 options." };
      var seen = new Set();
      for (var i = 0; i < options.length; i++) {
        if (options[i].length > 100) return { field: view.options, text: "Option " + (i + 1) + " is longer than 100 characters." };
        var folded = options[i].toLocaleLowerCase();
        if (seen.has(folded)) return { field: view.options, text: "“" + options[i] + "” is there twice." };
        seen.add(folded);
      }
    }
    if (kind === "multiple") {
      var most = wholeNumber(view.maxChoices);
      if (most !== null && !(most >= 1 && most <= options.length)) return { field: view.maxChoices, text: "Voters can pick 1 to " + options.length + " options: there are " + options.length + "." };
    }
    if (kind === "scale") {
      var min = wholeNumber(view.scaleMin);
      var max = wholeNumber(view.scaleMax);
      if (min === null || isNaN(min) || min < -100 || min > 100) return { field: view.scaleMin, text: "The scale starts at a whole number from -100 to 100." };
      if (max === null || isNaN(max) || max < -100 || max > 100) return { field: view.scaleMax, text: "The scale ends at a whole number from -100 to 100." };
      if (max <= min) return { field: view.scaleMax, text: "The scale has to end above where it starts." };
      if (max - min + 1 > 21) return { field: view.scaleMax, text: "A scale has at most 21 values (say 0 to 20)." };
    }
    if (kind === "words") {
      var answers = wholeNumber(view.maxAnswers);
      if (answers === null || isNaN(answers) || answers < 1 || answers > 10) return { field: view.maxAnswers, text: "Each voter can give 1 to 10 answers." };
    }
    return null;
  }

  /* The create_poll message for the form (once formProblem found nothing). */
  function createMessage(question, kind, options) {
    var message = { type: "create_poll", question: question, kind: kind, results: view.results.value, changes: view.changes.value };
    if (P.hasOptions({ kind: kind })) message.options = options;
    if (kind === "multiple" && wholeNumber(view.maxChoices) !== null) message.max_choices = wholeNumber(view.maxChoices);
    if (kind === "scale") {
      message.min = wholeNumber(view.scaleMin);
      message.max = wholeNumber(view.scaleMax);
    }
    if (kind === "words") message.max_answers = wholeNumber(view.maxAnswers);
    return message;
  }

  /* Shows the fields the chosen kind takes. */
  function updateKindFields() {
    var kind = chosenKind();
    view.optionsField.hidden = !P.hasOptions({ kind: kind });
    view.maxChoicesField.hidden = kind !== "multiple";
    view.scaleField.hidden = kind !== "scale";
    view.maxAnswersField.hidden = kind !== "words";
    if (!view.formError.hidden) showFormError(null);
  }

  function updateOptionsHint() {
    var n = optionLines().length;
    view.optionsHint.textContent = n === 0 ? "2 to 32 options" : P.plural(n, "option", "options") + (n < 2 ? " (at least 2)" : n > 32 ? " (at most 32)" : "");
  }

  var FORM_FIELDS = [view.question, view.options, view.maxChoices, view.scaleMin, view.scaleMax, view.maxAnswers];

  function showFormError(problem) {
    FORM_FIELDS.forEach(function (field) { field.removeAttribute("aria-invalid"); });
    view.formError.hidden = !problem;
    view.formError.textContent = problem ? problem.text : "";
    if (problem && problem.field) {
      problem.field.setAttribute("aria-invalid", "true");
      problem.field.focus();
    }
  }

  view.options.addEventListener("input", updateOptionsHint);
  view.form.addEventListener("change", function (event) {
    if (event.target.name === "kind") updateKindFields();
  });
  FORM_FIELDS.forEach(function (field) {
    field.addEventListener("input", function () {
      if (!view.formError.hidden) showFormError(null);
    });
  });
  [view.question, view.options].forEach(function (field) {
    field.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        if (view.form.requestSubmit) view.form.requestSubmit();
        else view.create.click();
      }
    });
  });

  var creating = false;
  view.form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (creating) return;
    var question = squash(view.question.value);
    var kind = chosenKind();
    var options = optionLines();
    var problem = formProblem(question, kind, options);
    showFormError(problem);
    if (problem) return;
    var showNow = view.showNow.checked;
    creating = true;
    view.create.textContent = "Creating…";
    command(createMessage(question, kind, options), "Could not create the poll").then(function (reply) {
      if (!reply) return null;
      view.form.reset();
      updateKindFields();
      updateOptionsHint();
      if (showNow && reply.poll && state.current !== reply.poll) {
        return command({ type: "set_current", poll: reply.poll }, "Could not show the poll");
      }
      return null;
    }).then(function () {
      creating = false;
      view.create.textContent = "Create poll";
    });
  });

  // Join address and QR code -------------------------------------------------------------

  var qrVersion = 0;
  function refreshJoin() {
    qrVersion += 1;
    var src = "/qr.svg" + (qrVersion > 1 ? "?v=" + qrVersion : "");
    view.qr.src = src;
    view.qrLarge.src = src;
    fetch("/join.json", { cache: "no-store" }).then(function (response) {
      if (!response.ok) throw new Error(response.statusText);
      return response.json();
    }).then(function (data) {
      if (data && typeof data.url === "string") state.joinUrl = data.url;
      showJoin();
    }).catch(function () {
      showJoin();
    });
    showJoin();
  }

  function showJoin() {
    var match = /^(https?:\/\/)(.*?)\/?$/.exec(state.joinUrl);
    view.joinScheme.textContent = match ? match[1] : "";
    var host = match ? match[2] : state.joinUrl;
    var colon = host.lastIndexOf(":");
    view.joinHost.textContent = "";
    if (colon > 0 && host.indexOf("/") < 0) {
      // Let a narrow column wrap before the port rather than inside a number.
      view.joinHost.append(host.slice(0, colon), document.createElement("wbr"), host.slice(colon));
    } else {
      view.joinHost.textContent = host;
    }
    view.qrDialogUrl.textContent = state.joinUrl.replace(/\/$/, "");
    view.qrButton.setAttribute("aria-label", "Show the QR code for " + state.joinUrl + " large");
  }

  view.qrButton.addEventListener("click", function () {
    if (typeof view.qrDialog.showModal === "function") view.qrDialog.showModal();
  });
  view.qrClose.addEventListener("click", function () { view.qrDialog.close(); });
  view.qrDialog.addEventListener("click", function (event) {
    if (event.target === view.qrDialog) view.qrDialog.close(); // a click on the backdrop
  });

  // Projector mode: the stage alone, full screen where the browser allows it ------------------

  function setProjector(on) {
    document.body.classList.toggle("projector", on);
    view.fullscreen.setAttribute("aria-pressed", String(on));
    view.fullscreenText.textContent = on ? "Exit full screen" : "Full screen";
  }

  view.fullscreen.addEventListener("click", function () {
    var on = !document.body.classList.contains("projector");
    setProjector(on);
    if (on && document.documentElement.requestFullscreen && !document.fullscreenElement) {
      document.documentElement.requestFullscreen().catch(function () { /* stays a projector view */ });
    } else if (!on && document.fullscreenElement && document.exitFullscreen) {
      document.exitFullscreen().catch(function () {});
    }
  });
  document.addEventListener("fullscreenchange", function () {
    if (!document.fullscreenElement) setProjector(false);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && document.body.classList.contains("projector") && !document.fullscreenElement) setProjector(false);
  });

  // Downloads --------------------------------------------------------------------------------

  /* The server builds the export (pollhub export's format, formulas guarded);
     the token goes in a header, never in the URL. */
  function download(path, what) {
    var failed = function (detail) { toast("Could not download the " + what + (detail ? ": " + detail : ".")); };
    fetch(path, { headers: { Authorization: "Bearer " + token }, cache: "no-store", credentials: "omit" })
      .then(function (reply) {
        if (!reply.ok) {
          failed(reply.status === 401 || reply.status === 403 ? "the server refused this page's token." :
            reply.status === 429 ? "too many tries with a wrong token; try again later." : "the server answered " + reply.status + ".");
          return null;
        }
        var match = /filename="([^"]+)"/.exec(reply.headers.get("Content-Disposition") || "");
        return reply.blob().then(function (blob) { save(blob, match ? match[1] : path.replace(/^\/export/, "pollhub-results")); });
      })
      .catch(function () { failed("the server cannot be reached."); });
  }

  function save(blob, name) {
    var url = URL.createObjectURL(blob);
    var link = document.createElement("a");
    link.href = url;
    link.download = name;
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
  }

  view.csv.addEventListener("click", function () { download("/export.csv", "CSV"); });
  view.json.addEventListener("click", function () { download("/export.json", "JSON"); });

  // Start ----------------------------------------------------------------------------------

  updateKindFields();

  if (!token) {
    lock();
    return;
  }

  var connection = new P.PollConnection({
    hello: function () { return { token: token }; },
    onMessage: handle,
    onState: function (connectionState, detail) {
      state.connection = connectionState;
      P.showStatus(view.status, connectionState, detail);
      scheduleRender();
    }
  });
  connection.start();
})();
