/* pollhub: the server's limits. The server sends them in every welcome
 * ("limits"); the pages use these defaults only until the first one arrives.
 * This is the one place in the pages that writes them down. */

export const DEFAULT_LIMITS = Object.freeze({
  polls: 75, // polls at once
  options: [2, 32], // options in a poll, fewest and most
  question_length: 300, // characters
  label_length: 100, // characters in an option label
  scale: [-100, 100], // the lowest and highest value of a scale
  scale_values: 21, // values in a scale, at most
  scale_default: [1, 5],
  answers: [1, 10], // answers per voter in a words poll
  answers_default: 3,
  answer_length: 40, // characters in one answer
  open_answer_length: 280, // characters in one answer of an open poll
  close_after: [1, 86400], // seconds of a countdown
  vote_rate: 20 // votes per voter the server takes in a while (0: no limit)
});

function isCount(n) {
  return typeof n === "number" && Number.isFinite(n);
}

function isPair(pair) {
  return Array.isArray(pair) && pair.length === 2 && isCount(pair[0]) && isCount(pair[1]) && pair[0] <= pair[1];
}

/* The limits a welcome carries, each one checked, over the defaults (an
   older server that sends none, or a field that is missing or malformed,
   keeps the default). */
export function readLimits(sent) {
  const limits = Object.assign({}, DEFAULT_LIMITS);
  if (!sent || typeof sent !== "object") return Object.freeze(limits);
  Object.keys(DEFAULT_LIMITS).forEach((key) => {
    const value = sent[key];
    if (Array.isArray(DEFAULT_LIMITS[key]) ? isPair(value) : isCount(value)) limits[key] = Array.isArray(value) ? value.slice() : value;
  });
  return Object.freeze(limits);
}
