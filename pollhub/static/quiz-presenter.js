/* pollhub presenter page: quizzes.
 *
 * The form (createQuizForm, used by presenter-form.js): with the kind Quiz
 * it shows a tick box per option to mark the correct one(s) and the time
 * limit (5 to 300 seconds, 20 unless changed); votes are final (the server
 * forces it) and results wait for the end of the question.
 *
 * The rest (createQuizPresenter, wired by presenter-app.js):
 * - each quiz question's row in the poll list says its correct answer, its
 *   time limit and where it is (not run, running, time up, revealed); its
 *   Open button reads "Start question" (open_poll starts the timer) and a
 *   "Reveal answer" button appears once time is up (also on the stage);
 * - the Quiz panel: the leaderboard (top 10, places moved), a rename for a
 *   nickname that should not be on a screen, "Reset the quiz" (with a
 *   confirmation), and what the big screen shows: the question, the
 *   leaderboard or the podium (the qa_settings "stage", kept by the server);
 * - the stage: a running question's options stay readable while the counts
 *   are hidden; once revealed the correct option is highlighted; with
 *   "leaderboard" or "podium" chosen, those big instead of the poll (the
 *   stage element gets data-show="quiz"; quiz.css hides the rest).
 *
 * presenter-app.js hands every message to handle() (true when it changed
 * something) and calls render() after the other components' renders.
 */

import { QUIZ_KIND, QUIZ_STAGES, TIME_LIMIT, initialQuiz, reduceQuiz, questionPhase, correctLabels, moveOf, podiumOrder, ordinal, checkTimeLimit, checkNickname, isQuiz } from "./quiz-state.js";
import { el } from "./dom.js";
import { formatCount, plural, squash } from "./format.js";
import { currentPoll } from "./state.js";

var PHASE_TEXT = { ready: "Not run yet", running: "Running", closed: "Time is up", revealed: "Answer revealed" };
var PLACES = ["First", "Second", "Third"];

// The form --------------------------------------------------------------------------------------

/* The quiz part of the new poll form; app is the page's wiring. Returns
   update(kind), problem(options) and fields(options) for presenter-form.js. */
export function createQuizForm(app) {
  var view = app.view;
  var $ = function (id) { return document.getElementById(id); };
  var fields = $("quiz-fields");
  var correct = $("quiz-correct");
  var hint = $("quiz-correct-hint");
  var timeLimit = $("new-time-limit");
  var ticked = new Set(); // folded labels ticked as correct
  var shown = ""; // the option lines the tick boxes were made for

  function lines() {
    return view.options.value.split(/\r?\n/).map(squash).filter(function (line) { return line.length > 0; });
  }

  function fold(label) {
    return label.toLocaleLowerCase();
  }

  /* One tick box per distinct option line, ticks kept by label. */
  function renderCorrect() {
    var options = lines();
    var key = JSON.stringify(options);
    if (key === shown) return;
    shown = key;
    correct.textContent = "";
    var seen = new Set();
    options.forEach(function (label, index) {
      if (seen.has(fold(label))) return;
      seen.add(fold(label));
      var row = el("label", "check quiz-correct-option");
      var box = el("input");
      box.type = "checkbox";
      box.value = label;
      box.checked = ticked.has(fold(label));
      box.dataset.index = String(index);
      box.addEventListener("change", function () {
        if (box.checked) ticked.add(fold(label));
        else ticked.delete(fold(label));
        if (!view.formError.hidden) {
          view.formError.hidden = true;
          view.formError.textContent = "";
        }
      });
      row.append(box, " " + label);
      correct.append(row);
    });
    hint.hidden = options.length > 0;
  }

  view.options.addEventListener("input", renderCorrect);

  /* Shows the quiz fields for the kind Quiz; a quiz's votes are final. */
  function update(kind) {
    var quiz = kind === QUIZ_KIND;
    fields.hidden = !quiz;
    view.changes.disabled = quiz;
    if (quiz) {
      view.changes.value = "locked";
      if (view.results.value === "always") view.results.value = "after_close";
    }
    if (!view.options.value) ticked.clear(); // the form was reset
    renderCorrect();
  }

  function chosen(options) {
    return options.filter(function (label) { return ticked.has(fold(label)); });
  }

  /* The quiz fields' problem for the form ({field, text}), or null. */
  function problem(options) {
    if (!chosen(options).length) return { field: correct.querySelector("input") || view.options, text: "Tick the correct answer: one option or more." };
    var limit = checkTimeLimit(timeLimit.value, TIME_LIMIT);
    if (limit.problem) return { field: timeLimit, text: limit.problem };
    return null;
  }

  /* The create_poll fields of a quiz question. */
  function quizFields(options) {
    var seen = new Set();
    var labels = chosen(options).filter(function (label) {
      if (seen.has(fold(label))) return false;
      seen.add(fold(label));
      return true;
    });
    return { correct: labels, time_limit: checkTimeLimit(timeLimit.value, TIME_LIMIT).seconds, changes: "locked" };
  }

  return { update: update, problem: problem, fields: quizFields };
}

// The list, the panel and the stage -----------------------------------------------------------------

/* The quiz parts of the presenter page; app is the page's wiring (presenter-app.js). */
export function createQuizPresenter(app) {
  var $ = function (id) { return document.getElementById(id); };
  var view = {
    stage: $("stage"),
    chart: $("chart"),
    bars: $("bars"),
    audienceActions: document.querySelector("#audience .audience-actions"),
    stageQuiz: $("stage-quiz"),
    stageBoard: $("stage-leaderboard"),
    stageBoardList: $("stage-leaderboard-list"),
    stageBoardCount: $("stage-leaderboard-count"),
    stageBoardEmpty: $("stage-leaderboard-empty"),
    stagePodium: $("stage-podium"),
    stagePodiumList: $("stage-podium-list"),
    stagePodiumEmpty: $("stage-podium-empty"),
    pollList: $("poll-list"),
    panel: $("quiz-panel"),
    count: $("quiz-panel-count"),
    stageButtons: Array.from(document.querySelectorAll("#quiz-panel [data-quiz-stage]")),
    board: $("quiz-board"),
    boardEmpty: $("quiz-board-empty"),
    rename: $("quiz-rename"),
    renameOld: $("quiz-rename-old"),
    renameInput: $("quiz-rename-input"),
    renameCancel: $("quiz-rename-cancel"),
    reset: $("quiz-reset")
  };

  var quiz = initialQuiz();
  var renaming = null; // the nickname being renamed

  var stageReveal = el("button", "btn btn-small btn-primary quiz-stage-reveal", "Reveal answer");
  stageReveal.type = "button";
  stageReveal.hidden = true;
  view.audienceActions.append(stageReveal);

  function handle(message) {
    var before = quiz;
    quiz = reduceQuiz(quiz, message);
    return quiz !== before;
  }

  function revealAnswer(poll) {
    app.command({ type: "reveal_answer", poll: poll.id }, "Could not reveal the answer");
  }

  stageReveal.addEventListener("click", function () {
    var poll = currentPoll(app.state);
    if (isQuiz(poll)) revealAnswer(poll);
  });

  // The poll list's quiz rows -------------------------------------------------------------------------

  /* The quiz part of a poll row (made once). */
  function quizBox(item, pollId) {
    var box = item.querySelector(".quiz-item");
    if (box) return box;
    box = el("div", "quiz-item");
    var line = el("p", "quiz-item-line");
    var reveal = el("button", "btn btn-small btn-primary quiz-reveal", "Reveal answer");
    reveal.type = "button";
    reveal.addEventListener("click", function () {
      var poll = app.state.polls.get(pollId);
      if (poll) revealAnswer(poll);
    });
    box.append(line, reveal);
    var head = item.querySelector(".poll-item-head");
    head.after(box);
    return box;
  }

  function decorateList(connected) {
    Array.from(view.pollList.children).forEach(function (item) {
      var poll = app.state.polls.get(item.dataset.poll);
      var quizRow = isQuiz(poll);
      item.classList.toggle("is-quiz", quizRow);
      if (!quizRow) return;
      var phase = questionPhase(quiz, poll);
      item.dataset.phase = phase;
      var kindBadge = item.querySelector(".badge-kind");
      if (kindBadge) kindBadge.textContent = "Quiz";
      var box = quizBox(item, poll.id);
      var answers = typeof poll.voters === "number" ? poll.voters : poll.total || 0;
      box.querySelector(".quiz-item-line").textContent = "Answer: " + (correctLabels(poll) || "–") + " · " + (poll.time_limit || 20) + " s · " + PHASE_TEXT[phase] + " · " + plural(answers, "answer", "answers");
      var reveal = box.querySelector(".quiz-reveal");
      reveal.hidden = phase !== "closed";
      reveal.disabled = !connected;
      var toggle = item.querySelector(".poll-item-actions [data-action='open_poll'], .poll-item-actions [data-action='close_poll']");
      if (toggle) {
        toggle.hidden = phase === "closed" || phase === "revealed";
        toggle.textContent = phase === "running" ? "Stop now" : "Start question";
        toggle.title = phase === "running" ? "End the question before its time is up" : "Start the question: its timer starts now";
      }
    });
  }

  // The Quiz panel ------------------------------------------------------------------------------------

  view.stageButtons.forEach(function (button) {
    button.addEventListener("click", function () {
      var stage = button.dataset.quizStage;
      if (quiz.stage !== stage) app.command({ type: "qa_settings", stage: stage }, "Could not change the big screen");
    });
  });

  view.reset.addEventListener("click", function () {
    app.confirmAction("Reset the whole quiz?", "Every answer and every point of every quiz question goes, and the leaderboard is emptied. Nicknames stay; the questions can be run again.", "Reset quiz").then(function (yes) {
      if (yes) app.command({ type: "reset_quiz" }, "Could not reset the quiz");
    });
  });

  function startRename(nickname) {
    renaming = nickname;
    view.renameOld.textContent = nickname;
    view.renameInput.value = nickname;
    view.rename.hidden = false;
    view.renameInput.focus();
    view.renameInput.select();
  }

  function stopRename() {
    renaming = null;
    view.rename.hidden = true;
  }

  view.rename.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!renaming) return;
    var typed = checkNickname(view.renameInput.value);
    if (typed.problem) {
      app.toast("A nickname needs 2 to 20 characters.");
      view.renameInput.focus();
      return;
    }
    var old = renaming;
    app.command({ type: "rename_nickname", nickname: old, to: typed.nickname }, "Could not rename " + old).then(function (reply) {
      if (reply) stopRename();
    });
  });
  view.renameCancel.addEventListener("click", stopRename);

  /* One row of a leaderboard: place, nickname, score, move (and a Rename button in the panel). */
  function boardRow(entry, withRename, connected) {
    var row = el("li", "quiz-row");
    row.dataset.nickname = entry.nickname;
    var move = moveOf(entry.moved);
    var rank = el("span", "quiz-rank", String(entry.rank));
    rank.setAttribute("aria-label", ordinal(entry.rank) + " place,");
    var name = el("span", "quiz-name", entry.nickname);
    var score = el("span", "quiz-score", formatCount(entry.score));
    score.setAttribute("aria-label", plural(entry.score, "point", "points") + ",");
    var arrow = el("span", "quiz-move", move.text);
    arrow.dataset.dir = move.dir;
    arrow.setAttribute("aria-label", move.label);
    row.append(rank, name, score, arrow);
    if (withRename) {
      var button = el("button", "btn btn-small btn-ghost quiz-rename-button", "Rename");
      button.type = "button";
      button.disabled = !connected;
      button.setAttribute("aria-label", "Rename " + entry.nickname);
      button.addEventListener("click", function () { startRename(entry.nickname); });
      row.append(button);
    }
    return row;
  }

  function fillBoard(list, entries, withRename, connected) {
    var key = JSON.stringify([entries, withRename, connected]);
    if (list.dataset.key === key) return;
    list.dataset.key = key;
    list.textContent = "";
    entries.forEach(function (entry) { list.append(boardRow(entry, withRename, connected)); });
  }

  function anyQuiz() {
    var found = false;
    app.state.polls.forEach(function (poll) { if (isQuiz(poll)) found = true; });
    return found;
  }

  function renderPanel(connected) {
    view.panel.hidden = !anyQuiz() && quiz.leaderboard.length === 0;
    view.count.textContent = quiz.participants ? plural(quiz.participants, "player", "players") : "";
    view.stageButtons.forEach(function (button) {
      var on = QUIZ_STAGES.indexOf(quiz.stage) >= 0 ? button.dataset.quizStage === quiz.stage : button.dataset.quizStage === "poll";
      button.setAttribute("aria-pressed", String(on));
      button.disabled = !connected;
    });
    fillBoard(view.board, quiz.leaderboard, true, connected);
    view.boardEmpty.hidden = quiz.leaderboard.some(function (entry) { return entry.score > 0; });
    view.reset.disabled = !connected;
  }

  // The stage ---------------------------------------------------------------------------------------

  function renderPodium() {
    var key = JSON.stringify(quiz.podium);
    if (view.stagePodiumList.dataset.key === key) return;
    view.stagePodiumList.dataset.key = key;
    view.stagePodiumList.textContent = "";
    podiumOrder(quiz.podium).forEach(function (entry) {
      var place = quiz.podium.indexOf(entry);
      var step = el("li", "quiz-step");
      step.dataset.place = String(place + 1);
      step.setAttribute("aria-label", PLACES[place] + ": " + entry.nickname + ", " + plural(entry.score, "point", "points"));
      var name = el("span", "quiz-step-name", entry.nickname);
      var score = el("span", "quiz-step-score", plural(entry.score, "point", "points"));
      var block = el("span", "quiz-step-block", String(place + 1));
      step.append(name, score, block);
      view.stagePodiumList.append(step);
    });
  }

  /* The current quiz question on the stage: correct option highlighted once revealed. */
  function renderQuestion() {
    var poll = currentPoll(app.state);
    var quizShown = isQuiz(poll);
    view.chart.classList.toggle("is-quiz", quizShown);
    var phase = quizShown ? questionPhase(quiz, poll) : null;
    stageReveal.hidden = phase !== "closed";
    stageReveal.disabled = app.connection !== "open";
    Array.from(view.bars.children).forEach(function (row) {
      var right = phase === "revealed" && Array.isArray(poll.correct) && poll.correct.indexOf(row.dataset.option) >= 0;
      row.classList.toggle("is-correct", right);
    });
    if (quizShown) view.chart.dataset.phase = phase;
  }

  function renderStage() {
    var show = QUIZ_STAGES.indexOf(quiz.stage) >= 0 ? quiz.stage : null;
    view.stageQuiz.hidden = !show;
    if (show) view.stage.dataset.show = "quiz"; // after qa-presenter.js, which sets "poll" or "qa"
    view.stageBoard.hidden = show !== "leaderboard";
    view.stagePodium.hidden = show !== "podium";
    if (show === "leaderboard") {
      fillBoard(view.stageBoardList, quiz.leaderboard, false, true);
      view.stageBoardEmpty.hidden = quiz.leaderboard.length > 0;
      view.stageBoardCount.textContent = quiz.participants ? "· " + plural(quiz.participants, "player", "players") : "";
    } else if (show === "podium") {
      renderPodium();
      view.stagePodiumEmpty.hidden = quiz.podium.length > 0;
    }
    renderQuestion();
  }

  function render() {
    var connected = app.connection === "open";
    decorateList(connected);
    renderPanel(connected);
    renderStage();
  }

  return { handle: handle, render: render };
}
