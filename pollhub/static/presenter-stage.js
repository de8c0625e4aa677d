/* pollhub presenter page: the stage. The current poll big (bars, a scale's
 * columns and average, a word cloud or a wall of open answers, whose answers can be hidden), its
 * countdown, who sees its results (veiled on the stage while participants
 * cannot see them, until the presenter reveals them or peeks), Previous/Next,
 * the join address and QR code, the presence count and projector mode.
 */

import { ScaleChart, WordCloud } from "./charts.js";
import { OPEN_KIND, AnswerWall, takesAnswers } from "./open-kind.js";
import { audience, formatClock, formatCount, hasOptions, percent, plural, timeLeft, votersOf } from "./format.js";
import { fromTemplate } from "./dom.js";
import { currentPoll } from "./state.js";
import { ACTION_ERRORS, hideAgain } from "./presenter-list.js";

var HURRY = 10000; // ms left when a countdown turns urgent

/* The stage; app is the page's wiring (presenter-app.js). */
export function createStage(app) {
  var view = app.view;
  var peek = {}; // poll id -> true: show its results on the stage although participants cannot see them
  var joinUrl = location.origin + "/";

  function renderPresence() {
    var n = app.state.participants;
    view.participants.textContent = n === null ? "–" : formatCount(n);
    view.participantsWord.textContent = n === 1 ? "participant" : "participants";
    view.stagePresence.hidden = n === null;
    view.stagePresence.textContent = n === null ? "" : plural(n, "person", "people") + " joined";
  }

  var chartRendered = { pollId: null, key: "", rows: new Map() };
  var stageScale = new ScaleChart(view.stageScale);
  var stageCloud = new WordCloud(view.stageCloud, { onPick: confirmHide, emptyText: "No answers yet." });
  var stageWall = new AnswerWall(view.stageWall, { onPick: confirmHide, emptyText: "No answers yet." });

  function renderChart() {
    var poll = currentPoll(app.state);
    var connected = app.connection === "open";
    view.chart.hidden = !poll;
    view.chartTotalLine.hidden = !poll;
    view.chartEmpty.hidden = !!poll;
    renderNav(poll);
    if (!poll) {
      view.chartEmptyText.textContent = app.state.polls.size ? "Pick a poll on the right and press “Show”, or use Next." : "Create a poll to get started.";
      chartRendered.pollId = null;
      return;
    }
    view.chart.dataset.kind = poll.kind;
    view.chartQuestion.textContent = poll.question;
    view.chartQuestion.dataset.length = poll.question.length > 160 ? "long" : poll.question.length > 90 ? "medium" : "short";
    view.chartState.textContent = poll.open ? (poll.kind === "counter" ? "Tap to count" : "Voting open") : "Voting closed";
    view.chartState.className = "badge " + (poll.open ? "badge-open" : "badge-closed");

    var who = audience(poll);
    var peeking = !!peek[poll.id];
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

    view.bars.hidden = !hasOptions(poll);
    view.stageScale.hidden = poll.kind !== "scale";
    view.stageCloud.hidden = poll.kind !== "words";
    view.stageWall.hidden = poll.kind !== OPEN_KIND;
    if (hasOptions(poll)) renderBars(poll);
    else if (poll.kind === "scale") stageScale.update(poll);
    else if (poll.kind === "words") stageCloud.update(poll);
    else if (poll.kind === OPEN_KIND) stageWall.update(poll);

    var byVoters = poll.kind !== "single" && poll.kind !== "counter";
    var shown = byVoters ? votersOf(poll) : poll.total || 0;
    view.chartTotal.textContent = formatCount(shown);
    view.chartTotalWord.textContent = byVoters ? (shown === 1 ? "voter" : "voters") : shown === 1 ? "vote" : "votes";
    view.chartExtra.textContent = takesAnswers(poll) ? " · " + plural(poll.total || 0, "answer", "answers") : "";
    app.renderCountdowns();
  }

  function renderBars(poll) {
    var key = poll.options.map(function (o) { return o.id + "\u0000" + o.label; }).join("\u0001");
    if (chartRendered.pollId !== poll.id || chartRendered.key !== key) {
      view.bars.textContent = "";
      chartRendered.rows = new Map();
      poll.options.forEach(function (option, index) {
        var parts = fromTemplate("bar-template");
        var row = parts.root;
        row.dataset.option = option.id;
        row.dataset.index = String(index % 8);
        parts.label.textContent = option.label;
        view.bars.append(row);
        chartRendered.rows.set(option.id, { row: row, pct: parts.pct, count: parts.count, fill: parts.fill });
      });
      chartRendered.pollId = poll.id;
      chartRendered.key = key;
      var n = poll.options.length;
      view.bars.dataset.size = n <= 4 ? "large" : n <= 8 ? "medium" : n <= 14 ? "small" : "tiny";
    }
    // A multiple choice poll shows each option's share of the voters (they add up to more than 100 %).
    var base = poll.kind === "multiple" ? votersOf(poll) : poll.total || 0;
    var counts = poll.counts || {};
    var max = 0;
    poll.options.forEach(function (o) { max = Math.max(max, counts[o.id] || 0); });
    poll.options.forEach(function (option) {
      var parts = chartRendered.rows.get(option.id);
      var n = counts[option.id] || 0;
      parts.pct.textContent = percent(n, base) + "%";
      parts.count.textContent = plural(n, "vote", "votes");
      parts.fill.style.width = (base > 0 ? Math.min(100, (100 * n) / base) : 0) + "%";
      parts.row.classList.toggle("is-leading", n > 0 && n === max);
    });
  }

  /* Previous / Next under the chart, and where the current poll is in the order. */
  function renderNav(poll) {
    var ids = Array.from(app.state.polls.keys());
    var at = poll ? ids.indexOf(poll.id) : -1;
    var connected = app.connection === "open";
    view.stageNav.hidden = ids.length === 0;
    view.keysHint.hidden = ids.length < 2;
    view.position.textContent = at >= 0 ? (at + 1) + " / " + ids.length : "";
    view.position.setAttribute("aria-label", at >= 0 ? "Poll " + (at + 1) + " of " + ids.length : "");
    view.prev.disabled = !connected || at === 0;
    view.next.disabled = !connected || (at >= 0 && at === ids.length - 1);
  }

  // Countdowns ------------------------------------------------------------------------------

  /* The stage's big countdown, from the local deadline. */
  function renderCountdown(now) {
    var poll = currentPoll(app.state);
    var left = poll ? timeLeft(poll, now) : null;
    view.countdown.hidden = left === null;
    if (left !== null) {
      view.countdownText.textContent = formatClock(left);
      view.countdown.classList.toggle("is-hurry", left <= HURRY);
      view.countdown.setAttribute("aria-label", "Voting closes in " + formatClock(left));
    }
  }

  function step(by) {
    if (app.connection !== "open" || !app.state.polls.size) return;
    app.command({ type: by > 0 ? "next_poll" : "previous_poll" }, by > 0 ? "Could not go to the next poll" : "Could not go back");
  }

  /* Hides a words answer (picked in the cloud, with its count) or an open answer (picked on the wall). */
  function confirmHide(text, count) {
    var poll = currentPoll(app.state);
    if (!poll || !takesAnswers(poll)) return;
    var pollId = poll.id;
    var what = typeof count === "number" ? "“" + text + "” (" + plural(count, "answer", "answers") + ")" : "“" + text + "” (and the same answer from anyone else)";
    app.confirmAction("Hide this answer?", what + " disappears from every screen and stays out of the results of this poll.", "Hide answer").then(function (yes) {
      if (yes) app.command({ type: "hide_answer", poll: pollId, text: text }, "Could not hide the answer");
    });
  }

  view.audienceReveal.addEventListener("click", function () {
    var poll = currentPoll(app.state);
    if (poll) app.command({ type: "reveal_poll", poll: poll.id }, ACTION_ERRORS.reveal_poll);
  });
  view.audienceHide.addEventListener("click", function () {
    var poll = currentPoll(app.state);
    if (poll) hideAgain(app, poll);
  });
  view.audiencePeek.addEventListener("click", function () {
    var poll = currentPoll(app.state);
    if (!poll) return;
    peek[poll.id] = !peek[poll.id];
    app.render();
  });
  view.prev.addEventListener("click", function () { step(-1); });
  view.next.addEventListener("click", function () { step(1); });

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
      if (data && typeof data.url === "string") joinUrl = data.url;
      showJoin();
    }).catch(function () {
      showJoin();
    });
    showJoin();
  }

  function showJoin() {
    var match = /^(https?:\/\/)(.*?)\/?$/.exec(joinUrl);
    view.joinScheme.textContent = match ? match[1] : "";
    var host = match ? match[2] : joinUrl;
    var colon = host.lastIndexOf(":");
    view.joinHost.textContent = "";
    if (colon > 0 && host.indexOf("/") < 0) {
      // Let a narrow column wrap before the port rather than inside a number.
      view.joinHost.append(host.slice(0, colon), document.createElement("wbr"), host.slice(colon));
    } else {
      view.joinHost.textContent = host;
    }
    view.qrDialogUrl.textContent = joinUrl.replace(/\/$/, "");
    view.qrButton.setAttribute("aria-label", "Show the QR code for " + joinUrl + " large");
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

  return {
    render: function () {
      renderPresence();
      renderChart();
    },
    renderCountdown: renderCountdown,
    refreshJoin: refreshJoin,
    step: step,
    forget: function (pollId) { delete peek[pollId]; }
  };
}
