/* pollhub presenter page: the form that creates a poll. It checks what it
 * can against the server's limits (from the welcome) before sending, and
 * puts those limits on its fields. */

import { setBounds } from "./dom.js";
import { formatCount, hasOptions, plural, squash } from "./format.js";
import { answersDefault, takesAnswers } from "./open-kind.js";
import { QUIZ_KIND } from "./quiz-state.js";
import { createQuizForm } from "./quiz-presenter.js";

/* The form; app is the page's wiring (presenter-app.js). */
export function createForm(app) {
  var view = app.view;
  var quizForm = createQuizForm(app); // the quiz kind's fields (quiz-presenter.js)

  // Creating a poll ------------------------------------------------------------------------

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
    var limits = app.state.limits;
    var fewest = limits.options[0];
    var scale = limits.scale;
    var answerRange = limits.answers;
    if (!question) return { field: view.question, text: "Write a question." };
    if (question.length > limits.question_length) return { field: view.question, text: "The question is longer than " + formatCount(limits.question_length) + " characters." };
    if (hasOptions({ kind: kind })) {
      if (options.length < fewest) return { field: view.options, text: "Write at least " + (fewest === 2 ? "two" : formatCount(fewest)) + " options, one per line." };
      if (options.length > limits.options[1]) return { field: view.options, text: "A poll has at most " + formatCount(limits.options[1]) + " options." };
      var seen = new Set();
      for (var i = 0; i < options.length; i++) {
        if (options[i].length > limits.label_length) return { field: view.options, text: "Option " + (i + 1) + " is longer than " + formatCount(limits.label_length) + " characters." };
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
      if (min === null || isNaN(min) || min < scale[0] || min > scale[1]) return { field: view.scaleMin, text: "The scale starts at a whole number from " + scale[0] + " to " + scale[1] + "." };
      if (max === null || isNaN(max) || max < scale[0] || max > scale[1]) return { field: view.scaleMax, text: "The scale ends at a whole number from " + scale[0] + " to " + scale[1] + "." };
      if (max <= min) return { field: view.scaleMax, text: "The scale has to end above where it starts." };
      if (max - min + 1 > limits.scale_values) return { field: view.scaleMax, text: "A scale has at most " + limits.scale_values + " values (say 0 to " + (limits.scale_values - 1) + ")." };
    }
    if (takesAnswers({ kind: kind })) {
      var answers = wholeNumber(view.maxAnswers);
      if (answers === null || isNaN(answers) || answers < answerRange[0] || answers > answerRange[1]) return { field: view.maxAnswers, text: "Each voter can give " + answerRange[0] + " to " + answerRange[1] + " answers." };
    }
    if (kind === QUIZ_KIND) return quizForm.problem(options);
    return null;
  }

  /* The create_poll message for the form (once formProblem found nothing). */
  function createMessage(question, kind, options) {
    var message = { type: "create_poll", question: question, kind: kind, results: view.results.value, changes: view.changes.value };
    if (hasOptions({ kind: kind })) message.options = options;
    if (kind === "multiple" && wholeNumber(view.maxChoices) !== null) message.max_choices = wholeNumber(view.maxChoices);
    if (kind === "scale") {
      message.min = wholeNumber(view.scaleMin);
      message.max = wholeNumber(view.scaleMax);
    }
    if (takesAnswers({ kind: kind })) message.max_answers = wholeNumber(view.maxAnswers);
    if (kind === QUIZ_KIND) Object.assign(message, quizForm.fields(options));
    return message;
  }

  var answersKind = "words"; // the kind whose default the answers field holds (the form's reset puts back the words one)

  /* Shows the fields the chosen kind takes. */
  function updateKindFields() {
    var kind = chosenKind();
    view.optionsField.hidden = !hasOptions({ kind: kind });
    view.maxChoicesField.hidden = kind !== "multiple";
    view.scaleField.hidden = kind !== "scale";
    view.maxAnswersField.hidden = !takesAnswers({ kind: kind });
    if (takesAnswers({ kind: kind }) && kind !== answersKind) {
      // Each kind starts from its own default (3 for a word cloud, 1 for open answers).
      view.maxAnswers.value = String(answersDefault(kind, app.state.limits));
      answersKind = kind;
    }
    quizForm.update(kind);
    if (!view.formError.hidden) showFormError(null);
  }

  function updateOptionsHint() {
    var n = optionLines().length;
    var range = app.state.limits.options;
    view.optionsHint.textContent = n === 0 ? range[0] + " to " + range[1] + " options" : plural(n, "option", "options") + (n < range[0] ? " (at least " + range[0] + ")" : n > range[1] ? " (at most " + range[1] + ")" : "");
  }

  /* The server's limits on the form's fields, and its defaults as the fields'
     initial values (what the form goes back to after a reset). */
  function applyLimits() {
    var limits = app.state.limits;
    setBounds(view.question, { maxlength: limits.question_length });
    setBounds(view.maxChoices, { min: 1, max: limits.options[1] });
    setBounds(view.scaleMin, { min: limits.scale[0], max: limits.scale[1] });
    setBounds(view.scaleMax, { min: limits.scale[0], max: limits.scale[1] });
    setBounds(view.maxAnswers, { min: limits.answers[0], max: limits.answers[1] });
    view.scaleMin.defaultValue = String(limits.scale_default[0]);
    view.scaleMax.defaultValue = String(limits.scale_default[1]);
    view.maxAnswers.defaultValue = String(limits.answers_default);
    updateOptionsHint();
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
    app.command(createMessage(question, kind, options), "Could not create the poll").then(function (reply) {
      if (!reply) return null;
      view.form.reset();
      answersKind = "words";
      updateKindFields();
      updateOptionsHint();
      if (showNow && reply.poll && app.state.current !== reply.poll) {
        return app.command({ type: "set_current", poll: reply.poll }, "Could not show the poll");
      }
      return null;
    }).then(function () {
      creating = false;
      view.create.textContent = "Create poll";
    });
  });

  return { applyLimits: applyLimits, updateKindFields: updateKindFields };
}
