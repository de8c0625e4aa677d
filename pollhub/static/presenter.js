/* pollhub presenter page: create and run polls, show the current one big.
 *
 * Opened as /present#token=TOKEN: the token moves to sessionStorage and out of
 * the address bar, and goes in the hello of every (re)connect. Without a
 * token the server accepts, the page shows how to get the right link and
 * nothing else. Like the participant page it rebuilds its state from every
 * welcome, so a reconnect never leaves anything stale.
 */
"use strict";

(function () {
  var P = window.Pollhub;
  var TOKEN_KEY = "pollhub-token";
  var MAX_TOASTS = 4;

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
    bars: $("bars"),
    chartTotal: $("chart-total"),
    chartTotalLine: $("chart-total-line"),
    chartTotalWord: $("chart-total-word"),
    form: $("create-form"),
    question: $("new-question"),
    options: $("new-options"),
    optionsHint: $("options-hint"),
    showNow: $("show-now"),
    formError: $("form-error"),
    create: $("create"),
    pollList: $("poll-list"),
    pollCount: $("poll-count"),
    noPolls: $("no-polls"),
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
    polls: new Map(), // id -> poll, oldest first
    seq: new Map(),
    current: null,
    participants: null,
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

  // Rendering -------------------------------------------------------------------------

  var scheduleRender = P.onNextFrame(function () { render(); });

  function render() {
    if (!state.admin) return;
    renderPresence();
    renderChart();
    renderList();
    var connected = state.connection === "open";
    view.create.disabled = !connected;
    document.title = (state.current && state.polls.get(state.current) ? state.polls.get(state.current).question + " · " : "") + "pollhub presenter";
  }

  function renderPresence() {
    var n = state.participants;
    view.participants.textContent = n === null ? "–" : P.formatCount(n);
    view.participantsWord.textContent = n === 1 ? "participant" : "participants";
    view.stagePresence.hidden = n === null;
    view.stagePresence.textContent = n === null ? "" : P.plural(n, "person", "people") + " joined";
  }

  var chartRendered = { pollId: null, key: "", rows: new Map() };

  function renderChart() {
    var poll = state.current !== null && state.current !== undefined ? state.polls.get(state.current) : null;
    view.chart.hidden = !poll;
    view.chartTotalLine.hidden = !poll;
    view.chartEmpty.hidden = !!poll;
    if (!poll) {
      view.chartEmptyText.textContent = state.polls.size ? "Pick a poll on the right and press “Show”." : "Create a poll to get started.";
      chartRendered.pollId = null;
      return;
    }
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
    view.chartQuestion.textContent = poll.question;
    view.chartQuestion.dataset.length = poll.question.length > 160 ? "long" : poll.question.length > 90 ? "medium" : "short";
    view.chartState.textContent = poll.open ? (poll.kind === "counter" ? "Tap to count" : "Voting open") : "Voting closed";
    view.chartState.className = "badge " + (poll.open ? "badge-open" : "badge-closed");
    var total = poll.total || 0;
    var max = 0;
    poll.options.forEach(function (o) { max = Math.max(max, poll.counts[o.id] || 0); });
    poll.options.forEach(function (option) {
      var parts = chartRendered.rows.get(option.id);
      var n = poll.counts[option.id] || 0;
      parts.pct.textContent = P.percent(n, total) + "%";
      parts.count.textContent = P.plural(n, "vote", "votes");
      parts.fill.style.width = (total > 0 ? (100 * n) / total : 0) + "%";
      parts.row.classList.toggle("is-leading", n > 0 && n === max);
    });
    view.chartTotal.textContent = P.formatCount(total);
    view.chartTotalWord.textContent = total === 1 ? "vote" : "votes";
  }

  var listItems = new Map(); // poll id -> {item, ...}

  function renderList() {
    var connected = state.connection === "open";
    view.noPolls.hidden = state.polls.size > 0;
    view.pollCount.textContent = state.polls.size ? String(state.polls.size) : "";
    listItems.forEach(function (parts, id) {
      if (!state.polls.has(id)) {
        parts.item.remove();
        listItems.delete(id);
      }
    });
    var previous = null;
    state.polls.forEach(function (poll, id) {
      var parts = listItems.get(id) || buildItem(id);
      var isCurrent = id === state.current;
      parts.item.classList.toggle("is-current", isCurrent);
      parts.item.classList.toggle("is-closed", !poll.open);
      parts.question.textContent = poll.question;
      parts.onScreen.hidden = !isCurrent;
      parts.openBadge.textContent = poll.open ? "Open" : "Closed";
      parts.openBadge.className = "badge badge-small " + (poll.open ? "badge-open" : "badge-closed");
      parts.kindBadge.hidden = poll.kind !== "counter";
      parts.total.textContent = P.plural(poll.total || 0, "vote", "votes") + " · " + P.plural(poll.options.length, "option", "options");
      parts.show.hidden = isCurrent;
      parts.show.disabled = !connected;
      parts.toggle.textContent = poll.open ? "Close voting" : "Open voting";
      parts.toggle.dataset.action = poll.open ? "close_poll" : "open_poll";
      parts.toggle.disabled = !connected;
      parts.reset.disabled = !connected || !poll.total;
      parts.remove.disabled = !connected;
      // Keep the DOM order the same as the polls' order without moving focused nodes needlessly.
      var expected = previous ? previous.nextElementSibling : view.pollList.firstElementChild;
      if (expected !== parts.item) {
        if (previous) previous.after(parts.item);
        else view.pollList.prepend(parts.item);
      }
      previous = parts.item;
    });
  }

  function buildItem(id) {
    var item = P.el("li", "poll-item");
    item.dataset.poll = id;
    var head = P.el("div", "poll-item-head");
    var badges = P.el("div", "poll-item-badges");
    var onScreen = P.el("span", "badge badge-small badge-current", "On screen");
    var openBadge = P.el("span", "badge badge-small");
    var kindBadge = P.el("span", "badge badge-small", "Counter");
    badges.append(onScreen, openBadge, kindBadge);
    var question = P.el("h3", "poll-item-question");
    var total = P.el("p", "poll-item-total");
    head.append(badges, question, total);
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
    var reset = action("reset_poll", "Reset");
    var remove = action("delete_poll", "Delete", "btn-danger-soft");
    item.append(head, actions);
    var parts = { item: item, question: question, total: total, onScreen: onScreen, openBadge: openBadge, kindBadge: kindBadge, show: show, toggle: toggle, reset: reset, remove: remove };
    listItems.set(id, parts);
    return parts;
  }

  view.pollList.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button || button.disabled) return;
    var item = button.closest("[data-poll]");
    var poll = item && state.polls.get(item.dataset.poll);
    if (!poll) return;
    var action = button.dataset.action;
    var what = {
      set_current: "Could not show the poll",
      open_poll: "Could not open voting",
      close_poll: "Could not close voting",
      reset_poll: "Could not reset the poll",
      delete_poll: "Could not delete the poll"
    }[action];
    var go = function () { return command({ type: action, poll: poll.id }, what); };
    if (action === "delete_poll") {
      confirmAction("Delete this poll?", "“" + poll.question + "”" + (poll.total ? " and its " + P.plural(poll.total, "vote", "votes") : "") + " will be gone for good.", "Delete poll").then(function (yes) { if (yes) go(); });
    } else if (action === "reset_poll") {
      confirmAction("Reset the votes?", "All " + P.plural(poll.total || 0, "vote", "votes") + " on “" + poll.question + "” will be removed. The poll stays.", "Reset votes").then(function (yes) { if (yes) go(); });
    } else {
      go();
    }
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

  /* An error message for the form as it is, or "" when it can be sent. */
  function formProblem(question, options) {
    if (!question) return { field: view.question, text: "Write a question." };
    if (question.length > 300) return { field: view.question, text: "The question is longer than 300 characters." };
    if (options.length < 2) return { field: view.options, text: "Write at least two options, one per line." };
    if (options.length > 32) return { field: view.options, text: "A poll has at most 32 options." };
    var seen = new Set();
    for (var i = 0; i < options.length; i++) {
      if (options[i].length > 100) return { field: view.options, text: "Option " + (i + 1) + " is longer than 100 characters." };
      var folded = options[i].toLocaleLowerCase();
      if (seen.has(folded)) return { field: view.options, text: "“" + options[i] + "” is there twice." };
      seen.add(folded);
    }
    return null;
  }

  function updateOptionsHint() {
    var n = optionLines().length;
    view.optionsHint.textContent = n === 0 ? "2 to 32 options" : P.plural(n, "option", "options") + (n < 2 ? " (at least 2)" : n > 32 ? " (at most 32)" : "");
  }

  function showFormError(problem) {
    view.question.removeAttribute("aria-invalid");
    view.options.removeAttribute("aria-invalid");
    view.formError.hidden = !problem;
    view.formError.textContent = problem ? problem.text : "";
    if (problem && problem.field) {
      problem.field.setAttribute("aria-invalid", "true");
      problem.field.focus();
    }
  }

  view.options.addEventListener("input", updateOptionsHint);
  [view.question, view.options].forEach(function (field) {
    field.addEventListener("input", function () {
      if (!view.formError.hidden) showFormError(null);
    });
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
    var options = optionLines();
    var problem = formProblem(question, options);
    showFormError(problem);
    if (problem) return;
    var kind = view.form.querySelector("input[name=kind]:checked").value;
    var showNow = view.showNow.checked;
    creating = true;
    view.create.textContent = "Creating…";
    command({ type: "create_poll", question: question, options: options, kind: kind }, "Could not create the poll").then(function (reply) {
      if (!reply) return null;
      view.form.reset();
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

  function pollsForExport() {
    return Array.from(state.polls.values()).map(function (poll) {
      return {
        id: poll.id,
        question: poll.question,
        options: poll.options.map(function (o) { return { id: o.id, label: o.label }; }),
        kind: poll.kind,
        open: poll.open,
        counts: Object.assign({}, poll.counts),
        total: poll.total
      };
    });
  }

  function csvCell(value) {
    var text = String(value);
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function toCsv(polls) {
    var rows = [["poll", "question", "kind", "open", "option", "label", "votes"]];
    polls.forEach(function (poll) {
      poll.options.forEach(function (option) {
        rows.push([poll.id, poll.question, poll.kind, poll.open ? "true" : "false", option.id, option.label, poll.counts[option.id] || 0]);
      });
    });
    return rows.map(function (row) { return row.map(csvCell).join(","); }).join("\r\n") + "\r\n";
  }

  function stamp() {
    var d = new Date();
    var two = function (n) { return String(n).padStart(2, "0"); };
    return d.getFullYear() + two(d.getMonth() + 1) + two(d.getDate()) + "-" + two(d.getHours()) + two(d.getMinutes());
  }

  function download(name, type, text) {
    var url = URL.createObjectURL(new Blob([text], { type: type }));
    var link = document.createElement("a");
    link.href = url;
    link.download = name;
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
  }

  view.csv.addEventListener("click", function () {
    download("pollhub-results-" + stamp() + ".csv", "text/csv;charset=utf-8", toCsv(pollsForExport()));
  });
  view.json.addEventListener("click", function () {
    download("pollhub-results-" + stamp() + ".json", "application/json", JSON.stringify({ polls: pollsForExport() }, null, 2) + "\n");
  });

  // Start ----------------------------------------------------------------------------------

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
