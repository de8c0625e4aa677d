/* pollhub presenter page: the poll list. One row per poll in the server's
 * order (built from the poll-item template), with its state, its actions
 * (show, open/close, reveal, reset, delete, move), a countdown and its
 * settings.
 */

import { fromTemplate, setBounds } from "./dom.js";
import { audience, formatClock, formatCount, formatMean, plural, timeLeft, votersOf } from "./format.js";

export var ACTION_ERRORS = {
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

/* Takes revealed results away from participants again: setting the results mode (even to the same) un-reveals. */
export function hideAgain(app, poll) {
  return app.command({ type: "update_poll", poll: poll.id, results: poll.results }, ACTION_ERRORS.unreveal);
}


/* The list; app is the page's wiring (presenter-app.js). */
export function createList(app) {
  var view = app.view;
  var KIND_TEXT = {
    single: "Single choice",
    multiple: "Multiple choice",
    counter: "Counter",
    scale: "Scale",
    words: "Word cloud",
    open: "Open answers"
  };

  // The poll list -----------------------------------------------------------------------------

  var listItems = new Map(); // poll id -> {item, ...}

  function renderList() {
    var connected = app.connection === "open";
    var ids = Array.from(app.state.polls.keys());
    view.noPolls.hidden = app.state.polls.size > 0;
    view.pollCount.textContent = app.state.polls.size ? String(app.state.polls.size) : "";
    listItems.forEach(function (parts, id) {
      if (!app.state.polls.has(id)) {
        parts.item.remove();
        listItems.delete(id);
      }
    });
    var focused = document.activeElement;
    var previous = null;
    app.state.polls.forEach(function (poll, id) {
      var parts = listItems.get(id) || buildItem(id);
      var isCurrent = id === app.state.current;
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
      parts.reset.disabled = !connected || !votersOf(poll);
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
    var voters = votersOf(poll);
    switch (poll.kind) {
      case "counter":
        return plural(poll.total || 0, "vote", "votes") + " · " + plural(poll.options.length, "option", "options");
      case "single":
        return plural(poll.total || 0, "vote", "votes") + " · " + plural(poll.options.length, "option", "options");
      case "multiple":
        return plural(voters, "voter", "voters") + " · up to " + formatCount(poll.max_choices || poll.options.length) + " of " + plural(poll.options.length, "option", "options");
      case "scale":
        return plural(voters, "voter", "voters") + " · " + poll.min + " to " + poll.max + " · average " + formatMean(poll.mean);
      case "words":
      case "open":
        return plural(voters, "voter", "voters") + " · " + plural(poll.total || 0, "answer", "answers");
      default:
        return plural(voters, "voter", "voters");
    }
  }

  /* A new row of the list for poll `id`, from the template. */
  function buildItem(id) {
    var parts = fromTemplate("poll-item-template");
    var item = parts.root;
    item.dataset.poll = id;
    parts.item = item;
    // Countdown: open (or keep open) for a while, then close by itself.
    parts.timerLabel.id = "timer-label-" + id;
    parts.quick.setAttribute("aria-labelledby", parts.timerLabel.id);
    parts.timerButtons = Array.from(parts.timer.querySelectorAll("button"));
    setBounds(parts.customInput, { min: app.state.limits.close_after[0], max: app.state.limits.close_after[1] });
    var custom = parts.custom;
    var customInput = parts.customInput;
    var customToggle = parts.customToggle;
    custom.addEventListener("submit", function (event) {
      event.preventDefault();
      var range = app.state.limits.close_after;
      var seconds = Math.round(Number(customInput.value));
      if (!customInput.value || !isFinite(seconds) || seconds < range[0] || seconds > range[1]) {
        customInput.setAttribute("aria-invalid", "true");
        app.toast("A countdown is " + formatCount(range[0]) + " to " + formatCount(range[1]) + " seconds.");
        customInput.focus();
        return;
      }
      customInput.removeAttribute("aria-invalid");
      app.command({ type: "open_poll", poll: id, close_after: seconds }, "Could not start the countdown").then(function (reply) {
        if (!reply) return;
        custom.hidden = true;
        customToggle.setAttribute("aria-expanded", "false");
        customInput.value = "";
      });
    });

    // Settings: who sees the results, whether votes can change.
    parts.results.id = "results-" + id;
    parts.resultsLabel.htmlFor = parts.results.id;
    parts.changes.id = "changes-" + id;
    parts.changesLabel.htmlFor = parts.changes.id;
    listItems.set(id, parts);
    return parts;
  }

  // Actions -------------------------------------------------------------------------------------


  view.pollList.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button || button.disabled) return;
    var item = button.closest("[data-poll]");
    var poll = item && app.state.polls.get(item.dataset.poll);
    if (!poll) return;
    var action = button.dataset.action;
    var what = ACTION_ERRORS[action];
    var go = function () { return app.command({ type: action, poll: poll.id }, what); };
    switch (action) {
      case "delete_poll":
        app.confirmAction("Delete this poll?", "“" + poll.question + "”" + (votersOf(poll) ? " and its " + plural(votersOf(poll), "voter", "voters") + "’ votes" : "") + " will be gone for good.", "Delete poll").then(function (yes) { if (yes) go(); });
        break;
      case "reset_poll":
        app.confirmAction("Reset the votes?", "All " + (poll.kind === "single" || poll.kind === "counter" ? plural(poll.total || 0, "vote", "votes") : "votes of " + plural(votersOf(poll), "voter", "voters")) + " on “" + poll.question + "” will be removed. The poll stays.", "Reset votes").then(function (yes) { if (yes) go(); });
        break;
      case "unreveal":
        hideAgain(app, poll);
        break;
      case "move":
        move(poll.id, Number(button.dataset.by));
        break;
      case "timer":
        app.command({ type: "open_poll", poll: poll.id, close_after: Number(button.dataset.seconds) }, what);
        break;
      case "stop-timer":
        app.command({ type: "open_poll", poll: poll.id }, what);
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
    var poll = item && app.state.polls.get(item.dataset.poll);
    if (!poll) return;
    var message = { type: "update_poll", poll: poll.id };
    message[select.dataset.setting] = select.value;
    select.dataset.sending = "1";
    app.command(message, "Could not change the setting").then(function () {
      delete select.dataset.sending;
      app.scheduleRender(); // shows the server's setting (the old one after a refusal)
    });
  });

  /* Moves a poll one place up (-1) or down (+1) in the order. */
  function move(pollId, by) {
    var ids = Array.from(app.state.polls.keys());
    var at = ids.indexOf(pollId);
    var to = at + by;
    if (at < 0 || to < 0 || to >= ids.length) return;
    ids.splice(at, 1);
    ids.splice(to, 0, pollId);
    app.command({ type: "order_polls", polls: ids }, "Could not move the poll");
  }

  /* Every row's own countdown, from the local deadline. */
  function renderCountdown(now) {
    listItems.forEach(function (parts, id) {
      var itemPoll = app.state.polls.get(id);
      var itemLeft = itemPoll ? timeLeft(itemPoll, now) : null;
      parts.running.hidden = itemLeft === null;
      parts.quick.hidden = itemLeft !== null;
      if (itemLeft !== null) parts.clock.textContent = formatClock(itemLeft);
    });
  }

  /* The server's countdown range on every row's field. */
  function applyLimits() {
    listItems.forEach(function (parts) {
      setBounds(parts.customInput, { min: app.state.limits.close_after[0], max: app.state.limits.close_after[1] });
    });
  }

  return { render: renderList, renderCountdown: renderCountdown, applyLimits: applyLimits };
}
