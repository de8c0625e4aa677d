/* pollhub participant page: quizzes.
 *
 * While any quiz question exists, a participant without a nickname is asked
 * for one (2 to 20 characters, unique in the event ignoring case), with a
 * suggestion to take; the server keeps it with the voter id (which lives in
 * localStorage), and the page remembers the last one typed to offer it again.
 *
 * A quiz question that is the current poll shows here instead of the poll
 * card: its options (radio buttons, or tick boxes when several options are
 * correct), a countdown from "closes_in" counted from when the page heard
 * of it, and one answer, locked in once sent. Nothing says which answer is
 * right until the presenter reveals it (the server sends no "correct"
 * before); then the right option(s) are marked, and the "score" message
 * gives this voter's points for the question, their total and their rank
 * ("12th of 148").
 *
 * participant.js hands every message to handle() and the connection's state
 * to connectionChanged(), and calls render(state, connected) (true when this
 * module shows the current poll, so the page hides its own poll card).
 */

import { QUIZ_KIND, initialQuiz, reduceQuiz, questionPhase, outcome, correctLabels, rankText, pointsText, checkNickname, suggestNickname, quizErrorText, answerIds } from "./quiz-state.js";
import { formatClock, timeLeft } from "./format.js";
import { el, onNextFrame } from "./dom.js";
import { currentPoll } from "./state.js";

var NICKNAME_KEY = "pollhub-nickname";
var TICK = 250; // ms between two countdown updates
var HURRY = 5000; // ms left when the countdown turns urgent
var LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/* The quiz view. options: connection() (the page's PollConnection) and announce(text). */
export function createParticipantQuiz(options) {
  var $ = function (id) { return document.getElementById(id); };
  var view = {
    join: $("quiz-join"),
    joinForm: $("quiz-join-form"),
    nickname: $("quiz-nickname"),
    suggestion: $("quiz-suggestion"),
    nicknameError: $("quiz-nickname-error"),
    nicknameSend: $("quiz-nickname-send"),
    card: $("quiz"),
    player: $("quiz-player"),
    timer: $("quiz-timer"),
    timerText: $("quiz-timer-text"),
    timerBar: $("quiz-timer-bar"),
    timerFill: $("quiz-timer-fill"),
    question: $("quiz-question"),
    options: $("quiz-options"),
    legend: $("quiz-legend"),
    sendRow: $("quiz-send-row"),
    send: $("quiz-send"),
    error: $("quiz-error"),
    status: $("quiz-status"),
    result: $("quiz-result"),
    verdict: $("quiz-verdict"),
    points: $("quiz-points"),
    total: $("quiz-total"),
    rank: $("quiz-rank")
  };

  var quiz = initialQuiz();
  var page = null; // the page's state (state.js), as last rendered
  var ui = {
    connection: "connecting",
    joining: false,
    nicknameError: "",
    suggestion: suggestNickname(),
    pending: {}, // poll id -> the answer on its way
    errors: {}, // poll id -> the last answer's problem, in words
    built: { pollId: null, key: "", inputs: new Map() },
    said: {} // poll id -> the phase last announced
  };

  function readSetting(key) {
    try { return localStorage.getItem(key); } catch (e) { return null; }
  }

  function writeSetting(key, value) {
    try { localStorage.setItem(key, value); } catch (e) { /* storage off: kept for this page only */ }
  }

  view.nickname.value = readSetting(NICKNAME_KEY) || "";

  // Messages ---------------------------------------------------------------------------

  function handle(message) {
    if (!message || typeof message !== "object") return;
    var before = quiz;
    quiz = reduceQuiz(quiz, message);
    if (message.type === "welcome") ui.pending = {};
    if (message.type === "nickname" && message.renamed === true) {
      view.nickname.value = quiz.nickname;
      writeSetting(NICKNAME_KEY, quiz.nickname);
      options.announce("The presenter changed your nickname to " + quiz.nickname + ".");
    }
    if (quiz !== before) scheduleRender();
  }

  function connectionChanged(state) {
    ui.connection = state;
    if (state !== "open") ui.pending = {};
    scheduleRender();
  }

  // The nickname -------------------------------------------------------------------------

  function join() {
    var typed = checkNickname(view.nickname.value);
    var connection = options.connection();
    if (ui.joining) return;
    if (typed.problem) return failNickname(quizErrorText("bad_nickname"));
    if (!connection.isOpen()) return failNickname("Not connected. You can join once the page reconnects.");
    ui.joining = true;
    ui.nicknameError = "";
    render();
    connection.request({ type: "nickname", nickname: typed.nickname }).then(function (reply) {
      ui.joining = false;
      if (reply.type === "nickname") {
        quiz = reduceQuiz(quiz, reply);
        writeSetting(NICKNAME_KEY, quiz.nickname);
        options.announce("You play as " + quiz.nickname + ".");
      } else if (reply.type === "error") {
        if (reply.code === "nickname_taken" && typeof reply.suggestion === "string" && reply.suggestion) {
          ui.suggestion = reply.suggestion;
          ui.nicknameError = "“" + typed.nickname + "” is taken. How about “" + reply.suggestion + "”?";
        } else {
          ui.nicknameError = quizErrorText(reply);
        }
      }
      render();
    }, function () {
      ui.joining = false;
      failNickname("Your nickname could not be sent. Try again once reconnected.");
    });
  }

  function failNickname(text) {
    ui.nicknameError = text;
    render();
    view.nickname.focus();
  }

  view.joinForm.addEventListener("submit", function (event) {
    event.preventDefault();
    join();
  });
  view.nickname.addEventListener("input", function () {
    if (!ui.nicknameError) return;
    ui.nicknameError = "";
    scheduleRender();
  });
  view.suggestion.addEventListener("click", function () {
    view.nickname.value = ui.suggestion;
    ui.nicknameError = "";
    view.nickname.focus();
    render();
  });

  function renderJoin(connected) {
    view.suggestion.textContent = "Use “" + ui.suggestion + "”";
    view.nicknameSend.disabled = !connected || ui.joining;
    view.nicknameSend.textContent = ui.joining ? "Joining…" : "Join the quiz";
    view.nickname.setAttribute("aria-invalid", String(!!ui.nicknameError));
    view.nicknameError.hidden = !ui.nicknameError;
    if (view.nicknameError.textContent !== ui.nicknameError) view.nicknameError.textContent = ui.nicknameError;
  }

  // Answering -------------------------------------------------------------------------------

  function selected() {
    var ids = [];
    ui.built.inputs.forEach(function (input, id) {
      if (input.checked) ids.push(id);
    });
    return ids;
  }

  function sendAnswer(poll) {
    var connection = options.connection();
    var ids = selected();
    if (questionPhase(quiz, poll) !== "running" || quiz.answers[poll.id] !== undefined || ui.pending[poll.id] || !connection.isOpen()) return;
    if (!ids.length) {
      ui.errors[poll.id] = "Pick an answer first.";
      render();
      return;
    }
    var pollId = poll.id;
    var message = poll.multiple ? { type: "vote", poll: pollId, options: ids } : { type: "vote", poll: pollId, option: ids[0] };
    ui.pending[pollId] = ids;
    delete ui.errors[pollId];
    render();
    connection.request(message).then(function (reply) {
      delete ui.pending[pollId];
      if (reply.type === "voted") {
        quiz = reduceQuiz(quiz, reply);
        options.announce("Your answer is locked in.");
      } else if (reply.type === "error") {
        if (reply.code === "nickname_required") quiz = reduceQuiz(quiz, { type: "hello", nickname: null, choices: quiz.answers });
        ui.errors[pollId] = quizErrorText(reply);
      }
      render();
    }, function () {
      delete ui.pending[pollId];
      ui.errors[pollId] = "Your answer could not be sent. It will work again once reconnected.";
      render();
    });
  }

  view.send.addEventListener("click", function () {
    var poll = shownPoll();
    if (poll) sendAnswer(poll);
  });

  function buildOptions(poll, key) {
    view.options.querySelectorAll(".quiz-option").forEach(function (node) { node.remove(); });
    ui.built = { pollId: poll.id, key: key, inputs: new Map(), labels: new Map() };
    poll.options.forEach(function (option, index) {
      var label = el("label", "quiz-option");
      label.dataset.option = option.id;
      label.dataset.index = String(index % 8);
      var input = el("input");
      input.type = poll.multiple ? "checkbox" : "radio";
      input.name = "quiz-answer";
      input.value = option.id;
      input.addEventListener("change", function () {
        delete ui.errors[poll.id];
        scheduleRender();
      });
      var letter = el("span", "quiz-option-letter", LETTERS.charAt(index % LETTERS.length));
      letter.setAttribute("aria-hidden", "true");
      var text = el("span", "quiz-option-label", option.label);
      var mark = el("span", "quiz-option-mark");
      label.append(input, letter, text, mark);
      view.options.append(label);
      ui.built.inputs.set(option.id, input);
      ui.built.labels.set(option.id, { label: label, mark: mark });
    });
  }

  function renderOptions(poll, phase, connected) {
    var key = (poll.multiple ? "m" : "s") + poll.options.map(function (o) { return o.id + "\u0000" + o.label; }).join("\u0001");
    if (ui.built.pollId !== poll.id || ui.built.key !== key) buildOptions(poll, key);
    var answer = quiz.answers[poll.id];
    var pending = ui.pending[poll.id];
    var given = answer !== undefined ? answerIds(answer) : pending || null;
    var revealed = phase === "revealed" && Array.isArray(poll.correct);
    var locked = phase !== "running" || !!given || !connected;
    view.legend.textContent = poll.multiple ? "Your answer: pick every right option" : "Your answer: pick one";
    ui.built.inputs.forEach(function (input, id) {
      var parts = ui.built.labels.get(id);
      if (given) input.checked = given.indexOf(id) >= 0;
      else if (phase === "ready") input.checked = false;
      input.disabled = locked;
      var right = revealed && poll.correct.indexOf(id) >= 0;
      var wrong = revealed && !right && input.checked;
      parts.label.classList.toggle("is-chosen", input.checked);
      parts.label.classList.toggle("is-correct", right);
      parts.label.classList.toggle("is-wrong", wrong);
      parts.label.classList.toggle("is-locked", locked);
      parts.mark.textContent = right ? "Right answer" : wrong ? "Your answer" : "";
    });
    view.sendRow.hidden = phase !== "running" || answer !== undefined;
    view.send.disabled = !connected || !!pending || selected().length === 0;
    view.send.textContent = pending ? "Sending…" : poll.multiple ? "Lock in my answers" : "Lock in my answer";
  }

  function statusText(poll, phase) {
    var answered = quiz.answers[poll.id] !== undefined;
    switch (phase) {
      case "ready":
        return "Get ready: the question starts when the presenter says go.";
      case "running":
        if (answered) return "Your answer is locked in. Wait for the reveal.";
        return poll.multiple ? "More than one answer is right: tick them all, then lock them in. One try." : "Pick one answer, then lock it in. One try.";
      case "closed":
        return answered ? "Time is up. Your answer is in: wait for the reveal." : "Time is up. You did not answer this one.";
      default:
        var labels = correctLabels(poll);
        return labels ? (poll.correct.length > 1 ? "The right answers: " : "The right answer: ") + labels : "";
    }
  }

  var VERDICT = { right: "Right!", wrong: "Wrong", missed: "No answer" };

  function renderResult(poll, phase) {
    var score = quiz.scores[poll.id] || null;
    var result = outcome(poll, quiz.answers[poll.id], score);
    view.result.hidden = result === null;
    if (result === null) return;
    view.result.dataset.outcome = result;
    view.verdict.textContent = VERDICT[result];
    view.points.textContent = score ? "+" + pointsText(score.points) : result === "right" ? "–" : "+" + pointsText(0);
    var me = quiz.me;
    view.total.textContent = pointsText(me ? me.total : 0); // a player who joined late has none yet
    view.rank.textContent = me ? rankText(me.rank, me.of) || "–" : "–";
  }

  /* Says what changed: a new question, time up, the reveal. */
  function announcePhase(poll, phase) {
    if (ui.said[poll.id] === phase) return;
    var first = ui.said[poll.id] === undefined;
    ui.said[poll.id] = phase;
    if (first) options.announce("Quiz question: " + poll.question);
    else if (phase === "running") options.announce("Go! " + Math.round(poll.time_limit || 0) + " seconds to answer.");
    else if (phase === "closed") options.announce("Time is up.");
    else if (phase === "revealed") {
      var result = outcome(poll, quiz.answers[poll.id], quiz.scores[poll.id] || null);
      options.announce(VERDICT[result] + " " + statusText(poll, phase) + ".");
    }
  }

  // The countdown -------------------------------------------------------------------------------

  function renderTimer(poll) {
    var left = poll ? timeLeft(poll) : null;
    view.timer.hidden = left === null;
    view.timerBar.hidden = left === null;
    if (left === null) return;
    var limit = (poll.time_limit || 0) * 1000;
    view.timerText.textContent = left > 0 ? formatClock(left) : "Time is up";
    view.timer.setAttribute("aria-label", left > 0 ? "Time left: " + formatClock(left) : "Time is up");
    view.timer.classList.toggle("is-hurry", left <= HURRY);
    view.timerFill.style.transform = "scaleX(" + (limit > 0 ? Math.min(1, left / limit) : 0) + ")";
  }

  var ticker = 0;
  function tickWhileCounting(poll) {
    var counting = !!poll && timeLeft(poll) !== null;
    if (counting && !ticker) {
      ticker = setInterval(function () {
        var current = shownPoll();
        renderTimer(current);
        if (!current || timeLeft(current) === null) {
          clearInterval(ticker);
          ticker = 0;
        }
      }, TICK);
    } else if (!counting && ticker) {
      clearInterval(ticker);
      ticker = 0;
    }
  }

  // Rendering ---------------------------------------------------------------------------------

  /* The current poll when it is a quiz question, as the page holds it (with its countdown). */
  function shownPoll() {
    var poll = page ? currentPoll(page) : null;
    return poll && poll.kind === QUIZ_KIND ? poll : null;
  }

  function anyQuiz() {
    if (quiz.polls.size > 0) return true;
    var found = false;
    if (page) page.polls.forEach(function (poll) { if (poll.kind === QUIZ_KIND) found = true; });
    return found;
  }

  /* Shows the nickname card and the quiz card as they should be; true when the current poll is a quiz question. */
  function render(pageState) {
    if (pageState) page = pageState;
    var connected = ui.connection === "open";
    var welcomed = !!page && page.welcomed;
    var needNickname = welcomed && anyQuiz() && !quiz.nickname;
    var poll = welcomed ? shownPoll() : null;
    view.join.hidden = !needNickname;
    if (needNickname) renderJoin(connected);
    view.card.hidden = !poll || needNickname;
    if (!poll || needNickname) {
      tickWhileCounting(null);
      return !!poll;
    }
    var phase = questionPhase(quiz, poll);
    view.card.dataset.phase = phase;
    view.card.classList.toggle("is-offline", !connected);
    view.question.textContent = poll.question;
    view.player.textContent = "Playing as " + quiz.nickname;
    document.title = poll.question + " · pollhub quiz";
    renderOptions(poll, phase, connected);
    var error = ui.errors[poll.id] || "";
    view.error.hidden = !error;
    if (view.error.textContent !== error) view.error.textContent = error;
    view.status.textContent = connected ? statusText(poll, phase) : "Reconnecting… answering resumes in a moment.";
    renderResult(poll, phase);
    renderTimer(poll);
    tickWhileCounting(poll);
    announcePhase(poll, phase);
    return true;
  }

  var scheduleRender = onNextFrame(function () { render(); });

  return { handle: handle, connectionChanged: connectionChanged, render: render };
}
