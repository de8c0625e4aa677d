/* pollhub: audience Q&A state, the pure reducer that applies the server's
 * Q&A messages to it, and the sorting and checks both pages share. No DOM:
 * it runs in the browser and under Node.js's test runner alike.
 *
 * The state (replaced, never changed in place; reduceQa returns the same
 * object when a message changes nothing):
 *   moderation  questions wait for the presenter's approval before others see them
 *   open        the audience may ask new questions (upvotes go on either way)
 *   highlight   the id of the question shown big on the stage, or null
 *   stage       what the stage shows: "poll" or "qa" (the Q&A list)
 *   limits      {question, name}: the most characters in each (from the welcome)
 *   questions   Map id -> question as the protocol sends it, plus `mine` and
 *               `upvoted` for this voter (a "question" message leaves those
 *               out, so they are carried over from what the page held)
 *
 * Messages: "welcome" (its "qa" part starts everything over; a page's
 * welcome comes before its hello names the voter, so it marks nothing),
 * the "hello" reply (its "qa": {"mine": [ids], "upvoted": [ids]}, this
 * voter's marks on every question, taken as they are), "question"
 * (new or changed), "question_removed" (dismissed: a participant drops it),
 * "qa" (the settings), and the direct replies "asked" and "upvoted".
 */

export const QUESTION_LENGTH = 280; // characters in a question, once whitespace is collapsed
export const NAME_LENGTH = 40; // characters in an asker's name
export const ORDERS = Object.freeze(["popular", "recent"]);
export const STAGES = Object.freeze(["poll", "qa", "leaderboard", "podium"]); // the last two: quizzes (quiz-presenter.js)
export const STATES = Object.freeze(["waiting", "published", "answered", "dismissed"]);

/* What the pages say for each Q&A error code of the protocol. */
export const QA_ERRORS = Object.freeze({
  bad_question: "A question needs 1 to " + QUESTION_LENGTH + " characters, and a name at most " + NAME_LENGTH + ".",
  duplicate_question: "You just asked that. Give the presenter a moment.",
  qa_closed: "Questions are closed for now. You can still upvote.",
  unknown_question: "That question is no longer available.",
  own_question: "You cannot upvote your own question.",
  question_answered: "That question was already answered.",
  too_many_questions: "That is a lot of questions at once. Wait a minute, then ask again.",
  rate_limited: "Whoa, that was fast! Slow down a little.",
  unavailable: "The server is busy. Please try again.",
  forbidden: "Only the presenter can do that."
});

/* Plain words for an error reply (or a code), with a fallback for codes the page does not know. */
export function qaErrorText(reply) {
  const code = reply && typeof reply === "object" ? reply.code : reply;
  return QA_ERRORS[code] || "That did not work. Please try again.";
}

export function initialQa() {
  return { moderation: false, open: true, highlight: null, stage: "poll", questions: new Map(), limits: { question: QUESTION_LENGTH, name: NAME_LENGTH } };
}

function isLength(n) {
  return typeof n === "number" && Number.isInteger(n) && n > 0;
}

/* The Q&A limits a welcome's "limits" carry (the defaults for those missing or malformed). */
function readQaLimits(sent) {
  const limits = { question: QUESTION_LENGTH, name: NAME_LENGTH };
  if (sent && typeof sent === "object") {
    if (isLength(sent.qa_question_length)) limits.question = sent.qa_question_length;
    if (isLength(sent.qa_name_length)) limits.name = sent.qa_name_length;
  }
  return limits;
}

function isQuestion(q) {
  return !!q && typeof q === "object" && typeof q.id === "string" && typeof q.text === "string";
}

/* A question as held: the fields sent, upvotes a count, and this voter's flags
   (from the message, else from `held`). Not upvoted once nobody upvotes it. */
function receive(q, held) {
  const upvotes = typeof q.upvotes === "number" && q.upvotes >= 0 ? q.upvotes : 0;
  const mine = typeof q.mine === "boolean" ? q.mine : !!(held && held.mine);
  const upvoted = typeof q.upvoted === "boolean" ? q.upvoted : !!(held && held.upvoted);
  return Object.assign({}, q, { upvotes, mine, upvoted: upvoted && upvotes > 0 && !mine });
}

const FIELDS = ["text", "name", "upvotes", "state", "asked_at", "answered_at", "mine", "upvoted"];

function sameQuestion(a, b) {
  return !!a && FIELDS.every((key) => a[key] === b[key]);
}

function withQuestion(qa, q) {
  const held = qa.questions.get(q.id);
  const fresh = receive(q, held);
  if (sameQuestion(held, fresh)) return qa;
  return Object.assign({}, qa, { questions: new Map(qa.questions).set(fresh.id, fresh) });
}

/* A welcome's question with the marks the page held kept: a page's welcome
   comes before its hello names the voter, so it marks nothing, and the
   hello reply right after sets the marks as they are. Keeping them until
   then spares a reconnecting page a flicker of upvote buttons. */
function keepMarks(q, held) {
  if (!held) return q;
  return Object.assign({}, q, { mine: q.mine === true || held.mine, upvoted: q.upvoted === true || held.upvoted });
}

/* The settings of a "qa" message or a welcome's "qa", each checked, over `qa`'s. */
function withSettings(qa, sent) {
  const next = Object.assign({}, qa);
  if (typeof sent.moderation === "boolean") next.moderation = sent.moderation;
  if (typeof sent.open === "boolean") next.open = sent.open;
  if (sent.highlight === null || typeof sent.highlight === "string") next.highlight = sent.highlight;
  if (STAGES.indexOf(sent.stage) >= 0) next.stage = sent.stage;
  const same = ["moderation", "open", "highlight", "stage"].every((key) => next[key] === qa[key]);
  return same ? qa : next;
}

/* The state with this voter's marks as a hello reply gives them: the
   questions listed are theirs or upvoted by them, the others not. */
function withMarks(qa, marks) {
  const mine = new Set(Array.isArray(marks.mine) ? marks.mine : []);
  const upvoted = new Set(Array.isArray(marks.upvoted) ? marks.upvoted : []);
  let next = qa;
  qa.questions.forEach((q) => {
    next = withQuestion(next, Object.assign({}, q, { mine: mine.has(q.id), upvoted: upvoted.has(q.id) }));
  });
  return next;
}

/* The Q&A state after one message from the server. */
export function reduceQa(qa, message) {
  if (!message || typeof message !== "object") return qa;
  switch (message.type) {
    case "welcome": {
      // A server without Q&A sends no "qa": nothing to show, and asking is off.
      const sent = message.qa && typeof message.qa === "object" ? message.qa : { open: false };
      const fresh = withSettings(initialQa(), sent);
      const questions = new Map();
      (Array.isArray(sent.questions) ? sent.questions : []).forEach((q) => {
        if (isQuestion(q)) questions.set(q.id, receive(keepMarks(q, qa.questions.get(q.id)), null));
      });
      return Object.assign(fresh, { questions, limits: readQaLimits(message.limits) });
    }
    case "question":
    case "asked":
      if (!isQuestion(message.question)) return qa;
      return withQuestion(qa, message.type === "asked" ? Object.assign({}, message.question, { mine: true }) : message.question);
    case "questions":  // several questions that changed in one batch, in one message
      return (Array.isArray(message.questions) ? message.questions : []).reduce(
        (held, q) => (isQuestion(q) ? withQuestion(held, q) : held), qa);
    case "hello":
      return message.qa && typeof message.qa === "object" ? withMarks(qa, message.qa) : qa;
    case "question_removed": {
      if (!qa.questions.has(message.question)) return qa;
      const questions = new Map(qa.questions);
      questions.delete(message.question);
      return Object.assign({}, qa, { questions });
    }
    case "upvoted": {
      const held = qa.questions.get(message.question);
      if (!held || typeof message.upvoted !== "boolean") return qa;
      const upvotes = typeof message.upvotes === "number" ? message.upvotes : held.upvotes;
      return withQuestion(qa, Object.assign({}, held, { upvoted: message.upvoted, upvotes }));
    }
    case "qa":
      return withSettings(qa, message);
    default:
      return qa;
  }
}

// Sorting and grouping --------------------------------------------------------------

/* The number in an id ("q12" -> 12), so that q10 sorts after q9. */
function idNumber(q) {
  const n = parseInt(String(q.id).replace(/^\D+/, ""), 10);
  return isNaN(n) ? 0 : n;
}

function askedAt(q) {
  return typeof q.asked_at === "number" ? q.asked_at : 0;
}

function byAsking(a, b) {
  return askedAt(a) - askedAt(b) || idNumber(a) - idNumber(b);
}

/* Popular: most upvotes first, then the oldest. Recent: newest first. */
export function compareQuestions(order) {
  if (order === "recent") return (a, b) => byAsking(b, a);
  return (a, b) => b.upvotes - a.upvotes || byAsking(a, b);
}

/* A new array of the questions in `order` ("popular" or "recent"). */
export function sortQuestions(questions, order) {
  return Array.from(questions).sort(compareQuestions(order));
}

/* The questions in groups, each sorted: `waiting` (oldest first, the order to
   moderate them in), `published` and `answered` (in `order`), `dismissed`
   (newest first). A participant holds only their own waiting questions. */
export function groupQuestions(qa, order) {
  const groups = { waiting: [], published: [], answered: [], dismissed: [] };
  qa.questions.forEach((q) => {
    if (groups[q.state]) groups[q.state].push(q);
  });
  groups.waiting.sort(byAsking);
  groups.published.sort(compareQuestions(order));
  groups.answered.sort(compareQuestions(order));
  groups.dismissed.sort((a, b) => byAsking(b, a));
  return groups;
}

/* The highlighted question while it is one to show (published), else null. */
export function highlighted(qa) {
  const q = qa.highlight === null ? undefined : qa.questions.get(qa.highlight);
  return q && q.state === "published" ? q : null;
}

/* Whether this voter may upvote the question: a published one not their own. */
export function canUpvote(q) {
  return q.state === "published" && !q.mine;
}

/* How many questions others asked that the page shows and `seen` (a Set of ids) lacks. */
export function unseenCount(qa, seen) {
  let n = 0;
  qa.questions.forEach((q) => {
    if (!q.mine && (q.state === "published" || q.state === "answered") && !seen.has(q.id)) n += 1;
  });
  return n;
}

// Checking what is typed -------------------------------------------------------------

const FORMAT = /\p{Cf}/gu; // format characters: zero-width spaces and joiners, soft hyphens, bidi controls
const VISIBLE = /[\p{L}\p{N}\p{P}\p{S}]/u; // a character that shows on its own

/* Text as the server compares it: format characters removed, NFKC (and
   format characters removed again), runs of white space collapsed, trimmed. */
export function cleanText(text) {
  return String(text).replace(FORMAT, "").normalize("NFKC").replace(FORMAT, "").replace(/\s+/gu, " ").trim();
}

/* Whether text has a character that shows (white space or combining marks alone do not). */
export function hasVisible(text) {
  return VISIBLE.test(text);
}

/* Its length in characters (code points, as the server counts them). */
export function textLength(text) {
  return Array.from(cleanText(text)).length;
}

/* A question as typed: {text, length, problem} where problem is null,
   "empty" or "long" (over `most` characters once cleaned). */
export function checkQuestion(text, most = QUESTION_LENGTH) {
  const clean = cleanText(text);
  const length = Array.from(clean).length;
  return { text: clean, length, problem: !hasVisible(clean) ? "empty" : length > most ? "long" : null };
}

/* A name as typed: {name, problem}; blank is anonymous (name null), over `most` characters "long". */
export function checkName(name, most = NAME_LENGTH) {
  const clean = cleanText(name || "");
  if (!hasVisible(clean)) return { name: null, problem: null };
  return { name: clean, problem: Array.from(clean).length > most ? "long" : null };
}
