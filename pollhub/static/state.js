/* pollhub: the pages' state and the pure reducer that applies the server's
 * messages to it. No DOM, no clock of its own: reduce(state, message, now)
 * returns the next state and never changes the one it was given (it returns
 * that same object when the message changes nothing, so `next !== state`
 * says whether to render).
 *
 * The state:
 *   welcomed      a welcome arrived (every (re)connect starts over from one)
 *   admin         the hello reply said this page is the presenter's
 *   limits        the server's limits (limits.js), from the welcome
 *   polls         Map id -> poll as the protocol sends it, in the server's order;
 *                 poll.closesAt is the local deadline of its countdown (from `now`)
 *   seq           Map poll id -> seq of the counts held
 *   current       the current poll's id, or null
 *   participants  how many participants are connected (presence), or null
 *   choices       poll id -> this voter's choice as the server normalised it
 *   drafts        poll id -> a selection not sent yet (set with setDraft)
 *   taps          poll id -> votes this page sent in a counter poll
 *
 * A poll with "visible": false has no counts: the server holds them back
 * from this participant. A "results" message for it means the participant
 * may now see them (they voted, voting closed, the presenter revealed), so
 * it is taken whatever its seq and the poll counts as visible from then on;
 * a "poll" message with "visible": false takes the counts away again.
 */

import { isVisible } from "./format.js";
import { DEFAULT_LIMITS, readLimits } from "./limits.js";
import { RANKING_KIND, validRanking } from "./ranking-kind.js";

export function initialState() {
  return {
    welcomed: false,
    admin: false,
    limits: DEFAULT_LIMITS,
    polls: new Map(),
    seq: new Map(),
    current: null,
    participants: null,
    choices: {},
    drafts: {},
    taps: {}
  };
}

/* The poll with the local time its countdown ends (closesAt, from `now`, or
   null): "closes_in" counts from when the message was made, so the page
   counts down from when it arrived rather than trusting its own clock
   against the server's. */
function receivePoll(poll, now) {
  return Object.assign({}, poll, { closesAt: poll.open && typeof poll.closes_in === "number" ? now + poll.closes_in * 1000 : null });
}

/* The object without `key` (the same object when it has none). */
export function without(object, key) {
  if (!(key in object)) return object;
  const copy = Object.assign({}, object);
  delete copy[key];
  return copy;
}

/* The result fields of a poll, for carrying them over. */
function countsOf(poll) {
  const counts = { counts: poll.counts, total: poll.total };
  if (poll.voters !== undefined) counts.voters = poll.voters;
  if (poll.mean !== undefined) counts.mean = poll.mean;
  if (poll.answers !== undefined) counts.answers = poll.answers; // an open poll's
  if (poll.positions !== undefined) counts.positions = poll.positions; // a ranking's
  return counts;
}

/* The state without this voter's choice and draft in a poll. */
function forget(state, pollId) {
  const choices = without(state.choices, pollId);
  const drafts = without(state.drafts, pollId);
  return choices === state.choices && drafts === state.drafts ? state : Object.assign({}, state, { choices, drafts });
}

function noVoters(counts) {
  return typeof counts.voters === "number" ? counts.voters === 0 : counts.total === 0;
}

/* Whether a poll message says this voter's vote is gone: the poll's reset
   count moved on (it says so even when the counts are held back), or it has
   no voters at all. */
function wasReset(poll, before) {
  if (before && typeof poll.resets === "number" && poll.resets !== before.resets) return true;
  return isVisible(poll) && noVoters(poll);
}

function hasOption(poll, optionId) {
  return (poll.options || []).some((o) => o.id === optionId);
}

/* Whether a choice the server says this voter holds fits the poll as held. */
export function validChoice(poll, choice) {
  switch (poll.kind) {
    case "single":
      return hasOption(poll, choice);
    case "multiple":
      return Array.isArray(choice) && choice.length > 0 && choice.every((id) => hasOption(poll, id));
    case "scale":
      return typeof choice === "number";
    case "words":
    case "open":
      return Array.isArray(choice) && choice.length > 0;
    case "counter":
      return poll.changes === "locked" && hasOption(poll, choice); // else every tap counts: nothing to hold
    case RANKING_KIND:
      return validRanking(poll, choice);
    default:
      return false;
  }
}

function pruneChoices(choices, polls) {
  const kept = {};
  Object.keys(choices).forEach((pollId) => {
    const poll = polls.get(pollId);
    if (poll && validChoice(poll, choices[pollId])) kept[pollId] = choices[pollId];
  });
  return kept;
}

/* The normalised choice a "voted" reply carries. */
export function chosenIn(reply) {
  if (reply.options !== undefined) return reply.options;
  if (reply.value !== undefined) return reply.value;
  if (reply.text !== undefined) return reply.text;
  return reply.option;
}

/* The polls in the given order of ids; polls the list misses keep their place after the listed ones. */
function reorder(polls, ids) {
  const ordered = new Map();
  (Array.isArray(ids) ? ids : []).forEach((id) => {
    if (polls.has(id)) ordered.set(id, polls.get(id));
  });
  polls.forEach((poll, id) => {
    if (!ordered.has(id)) ordered.set(id, poll);
  });
  return ordered;
}

/* The state after one message from the server (or the direct reply to a
   vote, "voted"); `now` is the page's clock (performance.now()) for countdowns. */
export function reduce(state, message, now = 0) {
  if (!message || typeof message !== "object") return state;
  switch (message.type) {
    case "welcome": {
      const polls = new Map();
      const seq = new Map();
      const welcomeSeq = message.seq || 0;
      (message.polls || []).forEach((poll) => {
        const held = state.polls.get(poll.id);
        const heldSeq = state.seq.get(poll.id) || 0;
        if (held && heldSeq > welcomeSeq && isVisible(held) && isVisible(poll)) {
          /* A reconnect to a node a moment behind the one before: keep the
             later counts, so that no total goes backwards. */
          polls.set(poll.id, receivePoll(Object.assign({}, poll, countsOf(held)), now));
          seq.set(poll.id, heldSeq);
        } else {
          polls.set(poll.id, receivePoll(poll, now));
          seq.set(poll.id, welcomeSeq);
        }
      });
      return Object.assign({}, state, {
        welcomed: true,
        limits: readLimits(message.limits),
        polls,
        seq,
        current: message.current === undefined ? null : message.current,
        choices: pruneChoices(state.choices, polls)
      });
    }
    case "hello":
      return Object.assign({}, state, { admin: message.admin === true, choices: pruneChoices(message.choices || {}, state.polls) });
    case "results": {
      const poll = state.polls.get(message.poll);
      if (!poll) return state;
      const held = state.seq.get(poll.id) || 0;
      let seq = state.seq;
      if (typeof message.seq === "number") {
        if (isVisible(poll) && message.seq <= held) return state;
        seq = new Map(state.seq).set(poll.id, Math.max(message.seq, held));
      }
      const fresh = Object.assign({}, poll, countsOf(message), { visible: true });
      const next = Object.assign({}, state, { polls: new Map(state.polls).set(poll.id, fresh), seq });
      return noVoters(message) ? forget(next, poll.id) : next;
    }
    case "poll": {
      if (!message.poll || typeof message.poll !== "object") return state;
      const before = state.polls.get(message.poll.id);
      const fresh = receivePoll(message.poll, now);
      const next = Object.assign({}, state, { polls: new Map(state.polls).set(fresh.id, fresh) });
      return wasReset(fresh, before) ? forget(next, fresh.id) : next; // a reset forgets every choice
    }
    case "order":
      return Object.assign({}, state, { polls: reorder(state.polls, message.polls) });
    case "current":
      return Object.assign({}, state, { current: message.poll === undefined ? null : message.poll });
    case "deleted": {
      const polls = new Map(state.polls);
      const seq = new Map(state.seq);
      polls.delete(message.poll);
      seq.delete(message.poll);
      const taps = without(state.taps, message.poll);
      const next = Object.assign({}, state, { polls, seq, taps, current: state.current === message.poll ? null : state.current });
      return forget(next, message.poll);
    }
    case "presence":
      return Object.assign({}, state, { participants: typeof message.participants === "number" ? message.participants : null });
    case "voted": {
      const poll = state.polls.get(message.poll);
      if (!poll) return state;
      if (poll.kind === "counter" && poll.changes !== "locked") {
        const taps = Object.assign({}, state.taps, { [poll.id]: (state.taps[poll.id] || 0) + 1 });
        return Object.assign({}, state, { taps });
      }
      const choices = Object.assign({}, state.choices, { [poll.id]: chosenIn(message) });
      return Object.assign({}, state, { choices, drafts: without(state.drafts, poll.id) });
    }
    default:
      return state;
  }
}

/* The state with a new draft (a selection not sent yet) for a poll; null or undefined drops it. */
export function setDraft(state, pollId, draft) {
  if (draft === null || draft === undefined) {
    const drafts = without(state.drafts, pollId);
    return drafts === state.drafts ? state : Object.assign({}, state, { drafts });
  }
  return Object.assign({}, state, { drafts: Object.assign({}, state.drafts, { [pollId]: draft }) });
}

/* The current poll, or null. */
export function currentPoll(state) {
  return state.current !== null && state.current !== undefined ? state.polls.get(state.current) || null : null;
}
