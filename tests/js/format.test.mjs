// The pages' formatting helpers (pollhub/static/format.js): node --test tests/js/
import { test } from "node:test";
import assert from "node:assert/strict";

import * as F from "../../pollhub/static/format.js";

const N = new Intl.NumberFormat(); // the helpers follow the locale's digit grouping

test("counts and plurals", () => {
  assert.equal(F.formatCount(0), "0");
  assert.equal(F.formatCount(1234567), N.format(1234567));
  assert.equal(F.plural(1, "vote", "votes"), "1 vote");
  assert.equal(F.plural(0, "vote", "votes"), "0 votes");
  assert.equal(F.plural(2500, "voter", "voters"), N.format(2500) + " voters");
});

test("percents are whole, and 0 without votes", () => {
  assert.equal(F.percent(1, 3), 33);
  assert.equal(F.percent(2, 3), 67);
  assert.equal(F.percent(5, 0), 0);
  assert.equal(F.percent(0, 10), 0);
  assert.equal(F.percent(10, 10), 100);
});

test("means have one decimal, a dash without votes", () => {
  assert.equal(F.formatMean(3), new Intl.NumberFormat(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(3));
  assert.match(F.formatMean(3.25), /^3.[23]$/);
  assert.equal(F.formatMean(null), "–");
  assert.equal(F.formatMean(NaN), "–");
  assert.equal(F.formatMean(undefined), "–");
});

test("countdowns read m:ss, rounded up to the second", () => {
  assert.equal(F.formatClock(0), "0:00");
  assert.equal(F.formatClock(1), "0:01");
  assert.equal(F.formatClock(9000), "0:09");
  assert.equal(F.formatClock(59001), "1:00");
  assert.equal(F.formatClock(61000), "1:01");
  assert.equal(F.formatClock(3600000), "60:00");
  assert.equal(F.formatClock(-5), "0:00");
});

test("time left on a countdown", () => {
  assert.equal(F.timeLeft({ open: true, closesAt: 5000 }, 2000), 3000);
  assert.equal(F.timeLeft({ open: true, closesAt: 5000 }, 9000), 0);
  assert.equal(F.timeLeft({ open: false, closesAt: 5000 }, 2000), null);
  assert.equal(F.timeLeft({ open: true, closesAt: null }, 2000), null);
  assert.equal(F.timeLeft(null, 0), null);
});

test("ranked counts: biggest first, ties alphabetical whatever the key order", () => {
  assert.deepEqual(F.rankedCounts({ counts: { pear: 2, Apple: 2, fig: 5, kiwi: 0 } }), [["fig", 5], ["Apple", 2], ["pear", 2], ["kiwi", 0]]);
  assert.deepEqual(F.rankedCounts({}), []);
});

test("scale values, voters, visibility, results notes", () => {
  assert.deepEqual(F.scaleValues({ min: -2, max: 2 }), [-2, -1, 0, 1, 2]);
  assert.deepEqual(F.scaleValues({}), [1, 2, 3, 4, 5]);
  assert.equal(F.votersOf({ voters: 4, total: 9 }), 4);
  assert.equal(F.votersOf({ total: 9 }), 9);
  assert.equal(F.votersOf({}), 0);
  assert.equal(F.isVisible({}), true);
  assert.equal(F.isVisible({ visible: false }), false);
  assert.equal(F.resultsNote({}), "");
  assert.equal(F.resultsNote({ visible: false, results: "after_vote" }), "Results appear after you vote");
  assert.equal(F.resultsNote({ visible: false, results: "after_close" }), "Results appear when voting closes");
  assert.equal(F.resultsNote({ visible: false, results: "hidden" }), "The presenter will reveal the results");
  assert.equal(F.hasOptions({ kind: "counter" }), true);
  assert.equal(F.hasOptions({ kind: "words" }), false);
});

test("who sees the results", () => {
  assert.equal(F.audience({ results: "always" }).see, "yes");
  assert.deepEqual(F.audience({ results: "after_vote", open: true }), { see: "some", text: "Participants see the results once they vote", short: "Results after vote", reveal: true });
  assert.equal(F.audience({ results: "after_close", open: false }).see, "yes");
  assert.equal(F.audience({ results: "hidden", revealed: true }).short, "Revealed");
  assert.equal(F.audience({ results: "hidden" }).reveal, true);
});

test("status words and white space", () => {
  assert.equal(F.statusText("open"), "Connected");
  assert.equal(F.statusText("connecting"), "Connecting…");
  assert.equal(F.statusText("reconnecting"), "Reconnecting…");
  assert.equal(F.statusText("stopped"), "Disconnected");
  assert.equal(F.squash("  a \n\t b  "), "a b");
});
