// The ranking poll kind's page helpers (pollhub/static/ranking-kind.js): node --test tests/js/
import { test } from "node:test";
import assert from "node:assert/strict";

import * as R from "../../pollhub/static/ranking-kind.js";
import { initialState, reduce, validChoice } from "../../pollhub/static/state.js";

const OPTIONS = [
  { id: "tea", label: "Tea" },
  { id: "coffee", label: "Coffee" },
  { id: "water", label: "Water" },
  { id: "juice", label: "Juice" }
];

function poll(fields) {
  return Object.assign({ id: "drinks", kind: "ranking", question: "Best?", open: true, options: OPTIONS, changes: "allowed" }, fields);
}

test("a ranking takes options; voters rank max_ranked of them, else all", () => {
  assert.equal(R.takesOptions("ranking"), true);
  for (const kind of ["single", "multiple", "counter"]) assert.equal(R.takesOptions(kind), true);
  for (const kind of ["scale", "words", "open"]) assert.equal(R.takesOptions(kind), false);
  assert.equal(R.maxRanked(poll({})), 4);
  assert.equal(R.maxRanked(poll({ max_ranked: 2 })), 2);
  assert.equal(R.maxRanked(poll({ max_ranked: 9 })), 4);
  assert.equal(R.isRanking(poll({})), true);
  assert.equal(R.isRanking({ kind: "multiple" }), false);
  assert.equal(R.isRanking(null), false);
});

test("a tap puts an option next, or takes a ranked one out; no room leaves the order alone", () => {
  let order = [];
  for (const id of ["water", "tea"]) order = R.tapOption(order, id, 3).order;
  assert.deepEqual(order, ["water", "tea"]);
  assert.deepEqual(R.tapOption(order, "coffee", 3), { order: ["water", "tea", "coffee"], full: false });
  assert.deepEqual(R.tapOption(["water", "tea", "coffee"], "juice", 3), { order: ["water", "tea", "coffee"], full: true });
  assert.deepEqual(R.tapOption(["water", "tea", "coffee"], "water", 3), { order: ["tea", "coffee"], full: false });
  assert.deepEqual(R.undoLast(["water", "tea"]), ["water"]);
  assert.deepEqual(R.undoLast([]), []);
});

test("options by score: the highest first, ties in option order sharing a place", () => {
  const rows = R.byScore(poll({
    counts: { tea: 5, coffee: 7, water: 5, juice: 0 },
    positions: { tea: 1.5, coffee: 1.33, water: 2, juice: null }
  }));
  assert.deepEqual(rows.map((r) => [r.id, r.place, r.score, r.position]), [
    ["coffee", 1, 7, 1.33], ["tea", 2, 5, 1.5], ["water", 2, 5, 2], ["juice", 4, 0, null]
  ]);
  assert.deepEqual(R.byScore(poll({})).map((r) => r.place), [1, 1, 1, 1]); // no counts yet (held back)
});

test("words for a ranking: ordinals, places, the summary, the lead, the hint", () => {
  assert.deepEqual([1, 2, 3, 4, 11, 12, 13, 21, 22, 101].map(R.ordinal), ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"]);
  assert.equal(R.positionText(1.5), "average place 1.5");
  assert.equal(R.positionText(null), "not ranked yet");
  assert.equal(R.describeRanking(poll({}), ["water", "tea"]), "1. Water, 2. Tea");
  const voted = poll({ counts: { tea: 5, coffee: 7, water: 5, juice: 0 }, total: 17, voters: 3 });
  assert.equal(R.summarizeRanking(voted), "Ranking: 1. Coffee 7 points, 2. Tea 5 points, 2. Water 5 points. 3 voters.");
  assert.equal(R.summarizeRanking(poll({ counts: {}, total: 0 })), "");
  assert.equal(R.rankingLead(voted), "leading: Coffee");
  assert.equal(R.rankingLead(poll({ counts: { tea: 3, coffee: 3 } })), "leading: Tea, Coffee");
  assert.equal(R.rankingLead(poll({})), "4 options to rank");
  assert.equal(R.rankingBadge(poll({})), "Rank them");
  assert.equal(R.rankingBadge(poll({ max_ranked: 3 })), "Rank your top 3");
  assert.match(R.rankingHint(poll({ max_ranked: 2 }), false), /^Tap your top 2 in order.*then submit\.$/);
  assert.match(R.rankingHint(poll({ changes: "locked" }), false), /cannot change it/);
  assert.match(R.rankingHint(poll({}), true), /update your ranking/);
});

test("a ranking the server says this voter holds is kept only if it fits the poll", () => {
  assert.equal(R.validRanking(poll({}), ["water", "tea"]), true);
  for (const wrong of [[], ["tea", "tea"], ["milk"], "tea", null, ["tea", "coffee", "water", "juice", "tea"]]) {
    assert.equal(R.validRanking(poll({}), wrong), false, JSON.stringify(wrong));
  }
  assert.equal(validChoice(poll({}), ["juice"]), true);
  assert.equal(validChoice(poll({}), ["milk"]), false);
});

test("the reducer keeps a ranking's positions and this voter's order", () => {
  let state = reduce(initialState(), { type: "welcome", polls: [poll({ counts: { tea: 0, coffee: 0, water: 0, juice: 0 }, total: 0, voters: 0, positions: { tea: null, coffee: null, water: null, juice: null } })], current: "drinks" });
  state = reduce(state, { type: "hello", admin: false, choices: { drinks: ["water", "tea"] } });
  assert.deepEqual(state.choices.drinks, ["water", "tea"]);
  state = reduce(state, { type: "results", poll: "drinks", counts: { tea: 2, coffee: 0, water: 3, juice: 0 }, total: 5, voters: 1, positions: { tea: 2, coffee: null, water: 1, juice: null } });
  assert.deepEqual(state.polls.get("drinks").positions, { tea: 2, coffee: null, water: 1, juice: null });
  state = reduce(state, { type: "voted", poll: "drinks", options: ["juice"] });
  assert.deepEqual(state.choices.drinks, ["juice"]);
});
