/* pollhub participant page: the current poll, one button per option, live results.
 *
 * All state comes from the server: every (re)connect starts over from its
 * welcome (polls, current poll) and the hello reply (this voter's choices).
 * The voter id lives in localStorage, so a reload or a lost connection never
 * makes a second voter.
 */
"use strict";

(function () {
  var P = window.Pollhub;
  var VOTER_KEY = "pollhub-voter";
  var ANNOUNCE_INTERVAL = 3000; // ms between two spoken result summaries, at least

  var $ = function (id) { return document.getElementById(id); };
  var view = {
    status: $("status"),
    loading: $("loading"),
    waiting: $("waiting"),
    poll: $("poll"),
    kind: $("poll-kind"),
    open: $("poll-open"),
    question: $("question"),
    closed: $("closed"),
    options: $("options"),
    yourVote: $("your-vote"),
    hint: $("hint"),
    total: $("total"),
    notice: $("notice"),
    announcer: $("announcer")
  };

  var state = {
    connection: "connecting",
    welcomed: false,
    polls: new Map(), // id -> poll (as the protocol sends it)
    seq: new Map(), // poll id -> seq of the counts we hold
    current: null,
    choices: {}, // poll id -> option id (single polls), from the server
    pending: {}, // poll id -> option id of a vote on its way
    taps: {} // poll id -> votes this page sent in a counter poll
  };

  /* The voter id: kept in localStorage (or for this page only, if storage is off). */
  function voterId() {
    var id = null;
    try {
      id = localStorage.getItem(VOTER_KEY);
      if (!id || !/^[0-9a-f]{32}$/.test(id)) {
        id = P.randomId();
        localStorage.setItem(VOTER_KEY, id);
      }
    } catch (e) {
      id = id || P.randomId();
    }
    return id;
  }
  var voter = voterId();

  // Messages ---------------------------------------------------------------------

  function handle(message) {
    var before = message.type === "poll" ? state.polls.get(message.poll.id) : null;
    var changed = P.applyPollMessage(state, message);
    switch (message.type) {
      case "welcome":
        state.welcomed = true;
        state.pending = {};
        pruneChoices();
        break;
      case "hello":
        state.choices = Object.assign({}, message.choices || {});
        pruneChoices();
        changed = true;
        break;
      case "results":
        if (changed && message.total === 0) delete state.choices[message.poll];
        break;
      case "poll":
        var fresh = message.poll;
        if (fresh.total === 0) delete state.choices[fresh.id]; // a reset forgets every choice
        if (fresh.id === state.current && before && before.open !== fresh.open) {
          announce(fresh.open ? "Voting is open again." : "Voting is closed.");
        }
        break;
      case "deleted":
        delete state.choices[message.poll];
        break;
      default:
        break;
    }
    if (changed) scheduleRender();
  }

  function pruneChoices() {
    Object.keys(state.choices).forEach(function (pollId) {
      var poll = state.polls.get(pollId);
      if (!poll || poll.kind !== "single" || !hasOption(poll, state.choices[pollId])) delete state.choices[pollId];
    });
  }

  function hasOption(poll, optionId) {
    return poll.options.some(function (o) { return o.id === optionId; });
  }

  function labelOf(poll, optionId) {
    for (var i = 0; i < poll.options.length; i++) {
      if (poll.options[i].id === optionId) return poll.options[i].label;
    }
    return optionId;
  }

  // Voting -----------------------------------------------------------------------

  var ERRORS = {
    poll_closed: "Voting is closed for this question.",
    unknown_poll: "This question is no longer available.",
    unknown_option: "That option is no longer available.",
    rate_limited: "Whoa, that was fast! Slow down a little.",
    unavailable: "The server is busy. Please try again."
  };

  function vote(poll, optionId) {
    if (!connection.isOpen() || !poll.open) return;
    if (poll.kind === "single") {
      if (state.choices[poll.id] === optionId && !state.pending[poll.id]) return;
      state.pending[poll.id] = optionId;
    }
    render();
    var pollId = poll.id;
    connection.request({ type: "vote", poll: pollId, option: optionId }).then(function (reply) {
      if (state.pending[pollId] === optionId) delete state.pending[pollId];
      if (reply.type === "voted") {
        var current = state.polls.get(pollId);
        if (current && current.kind === "single") {
          state.choices[pollId] = reply.option;
          announce("Your vote: " + labelOf(current, reply.option) + ".");
        } else if (current) {
          state.taps[pollId] = (state.taps[pollId] || 0) + 1;
        }
      } else if (reply.type === "error") {
        showNotice(ERRORS[reply.code] || reply.message || "Your vote did not count. Please try again.");
      }
      render();
    }, function () {
      if (state.pending[pollId] === optionId) delete state.pending[pollId];
      showNotice("Your vote could not be sent. It will work again once reconnected.");
      render();
    });
  }

  var noticeTimer = 0;
  function showNotice(text) {
    view.notice.textContent = text;
    view.notice.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(function () { view.notice.hidden = true; }, 4000);
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
      var poll = state.polls.get(state.current);
      if (!poll || state.connection !== "open") return;
      var summary = summarize(poll);
      if (summary === lastSummary) return;
      lastSummary = summary;
      if (summary) announce(summary);
    }, wait);
  }

  /* "Results: Pizza 3 (60%), Salad 2 (40%). 5 votes." (the top three options). */
  function summarize(poll) {
    var total = poll.total || 0;
    if (total === 0) return "";
    var ranked = poll.options.slice().sort(function (a, b) {
      return (poll.counts[b.id] || 0) - (poll.counts[a.id] || 0);
    });
    var parts = ranked.slice(0, 3).map(function (o) {
      var n = poll.counts[o.id] || 0;
      return o.label + " " + P.formatCount(n) + " (" + P.percent(n, total) + "%)";
    });
    return "Results: " + parts.join(", ") + ". " + P.plural(total, "vote", "votes") + ".";
  }

  // Rendering ----------------------------------------------------------------------

  var scheduleRender = P.onNextFrame(function () { render(); });

  var rendered = { pollId: null, optionKey: "", buttons: new Map(), announcedPoll: undefined };

  function render() {
    var connected = state.connection === "open";
    var poll = state.current !== null && state.current !== undefined ? state.polls.get(state.current) : null;
    view.loading.hidden = state.welcomed;
    view.waiting.hidden = !state.welcomed || !!poll;
    view.poll.hidden = !state.welcomed || !poll;
    if (!state.welcomed) return;
    if (!poll) {
      document.title = "pollhub · Waiting";
      if (rendered.announcedPoll !== null) {
        rendered.announcedPoll = null;
        if (state.connection === "open") announce("Waiting for the next question.");
      }
      rendered.pollId = null;
      return;
    }
    document.title = poll.question + " · pollhub";
    if (rendered.announcedPoll !== poll.id) {
      rendered.announcedPoll = poll.id;
      lastSummary = "";
      announce("Question: " + poll.question + (poll.open ? "" : " Voting is closed."));
    }
    var single = poll.kind === "single";
    var optionKey = poll.options.map(function (o) { return o.id + "\u0000" + o.label; }).join("\u0001");
    if (rendered.pollId !== poll.id || rendered.optionKey !== optionKey) buildOptions(poll);
    view.question.textContent = poll.question;
    view.kind.textContent = single ? "Choose one" : "Tap to count";
    view.open.hidden = !poll.open;
    view.closed.hidden = poll.open;
    view.poll.classList.toggle("is-closed", !poll.open);
    view.poll.classList.toggle("is-counter", !single);
    view.poll.classList.toggle("is-offline", !connected);

    var chosen = single ? state.choices[poll.id] : undefined;
    var pending = single ? state.pending[poll.id] : undefined;
    var shown = pending !== undefined ? pending : chosen;
    var total = poll.total || 0;
    var max = 0;
    poll.options.forEach(function (o) { max = Math.max(max, poll.counts[o.id] || 0); });
    poll.options.forEach(function (option) {
      var parts = rendered.buttons.get(option.id);
      var n = poll.counts[option.id] || 0;
      var pct = P.percent(n, total);
      parts.button.disabled = !poll.open || !connected;
      if (single) parts.button.setAttribute("aria-pressed", String(shown === option.id));
      parts.button.classList.toggle("is-chosen", shown === option.id);
      parts.button.classList.toggle("is-pending", pending === option.id && pending !== chosen);
      parts.button.classList.toggle("is-leading", n > 0 && n === max);
      parts.fill.style.transform = "scaleX(" + (total > 0 ? n / total : 0) + ")";
      parts.pct.textContent = pct + "%";
      parts.count.textContent = P.plural(n, "vote", "votes");
    });

    if (single && chosen !== undefined) {
      view.yourVote.hidden = false;
      view.yourVote.textContent = "Your vote: " + labelOf(poll, chosen);
    } else {
      view.yourVote.hidden = true;
      view.yourVote.textContent = "";
    }
    var hint;
    if (!connected) hint = "Reconnecting… voting resumes in a moment.";
    else if (!poll.open) hint = single && chosen === undefined ? "You did not vote on this one." : "Results are final unless the presenter reopens voting.";
    else if (!single) hint = state.taps[poll.id] ? "You tapped " + P.plural(state.taps[poll.id], "time", "times") + ". Keep going!" : "Tap as often as you like: every tap counts.";
    else if (chosen !== undefined) hint = "Changed your mind? Tap another option.";
    else hint = "Tap an option to vote.";
    view.hint.textContent = hint;
    view.total.textContent = P.plural(total, "vote", "votes") + " in total";
    announceResults();
  }

  function buildOptions(poll) {
    var focusedId = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.option : undefined;
    var sameAsBefore = rendered.pollId === poll.id;
    view.options.textContent = "";
    rendered.buttons = new Map();
    poll.options.forEach(function (option, index) {
      var button = P.el("button", "option");
      button.type = "button";
      button.dataset.option = option.id;
      button.dataset.index = String(index % 8);
      var fill = P.el("span", "option-fill");
      fill.setAttribute("aria-hidden", "true");
      var mark = P.el("span", "option-mark");
      mark.setAttribute("aria-hidden", "true");
      mark.innerHTML = '<svg viewBox="0 0 24 24" focusable="false"><path d="M9.5 16.2 5.3 12l-1.4 1.4 5.6 5.6 11-11-1.4-1.4z"/></svg>';
      var label = P.el("span", "option-label", option.label);
      var figures = P.el("span", "option-figures");
      var sep = P.el("span", "visually-hidden", ", ");
      var pct = P.el("span", "option-pct", "0%");
      var sep2 = P.el("span", "visually-hidden", ", ");
      var count = P.el("span", "option-count", "0 votes");
      figures.append(sep, pct, sep2, count);
      button.append(fill, mark, label, figures);
      button.addEventListener("click", function () {
        var current = state.polls.get(poll.id);
        if (current) {
          vote(current, option.id);
          if (current.kind === "counter") bump(button);
        }
      });
      view.options.append(button);
      rendered.buttons.set(option.id, { button: button, fill: fill, pct: pct, count: count });
    });
    rendered.pollId = poll.id;
    rendered.optionKey = poll.options.map(function (o) { return o.id + "\u0000" + o.label; }).join("\u0001");
    if (sameAsBefore && focusedId && rendered.buttons.has(focusedId)) rendered.buttons.get(focusedId).button.focus();
  }

  /* A short "+1" pop on a counter tap. */
  function bump(button) {
    var plus = P.el("span", "plus-one", "+1");
    plus.setAttribute("aria-hidden", "true");
    button.append(plus);
    setTimeout(function () { plus.remove(); }, 700);
  }

  // Start --------------------------------------------------------------------------

  var connection = new P.PollConnection({
    hello: function () { return { voter: voter }; },
    onMessage: handle,
    onState: function (connectionState, detail) {
      var was = state.connection;
      state.connection = connectionState;
      P.showStatus(view.status, connectionState, detail);
      if (connectionState !== "open") state.pending = {};
      if (was !== connectionState && (connectionState === "open" || was === "open")) scheduleRender();
    }
  });
  connection.start();
})();
