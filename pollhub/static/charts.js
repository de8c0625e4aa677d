/* pollhub: the result charts both pages draw, no library.
 *
 * ScaleChart: one column per value of a scale poll (min..max), its height by
 * that value's share of the biggest count, with the mean marked under the
 * axis. WordCloud: a words poll's answers in an SVG, font size by count,
 * biggest first from the middle outwards along a spiral; the same counts
 * always give the same picture. Both are built once per poll and updated in
 * place with update(poll).
 */
import { el } from "./dom.js";
import { formatCount, formatMean, plural, rankedCounts, scaleValues } from "./format.js";

var SVG = "http://www.w3.org/2000/svg";

var CLOUD_MIN_FONT = 18; // px in the cloud's own units (the SVG scales to fit)
var CLOUD_MAX_FONT = 72;
var CLOUD_GAP_X = 10; // space kept around every word, horizontally ...
var CLOUD_GAP_Y = 4; // ... and vertically
var CLOUD_STEP = 0.18; // radians per step along the spiral
var CLOUD_SPREAD = 2.2; // spiral radius growth per radian
var CLOUD_WIDE = 1.7; // the spiral is this much wider than tall: clouds fill a landscape screen
var CLOUD_MAX_STEPS = 6000; // a word that finds no place within this many steps is left out
var CLOUD_MIN_WIDTH = 640; // the cloud's smallest extent in its own units, so that a few words ...
var CLOUD_MIN_HEIGHT = 240; // ... are not blown up to fill the screen
var COLOURS = 8; // --c0 .. --c7

// Scale chart --------------------------------------------------------------------------

/* A column chart for a scale poll in `container`; update(poll) redraws it. */
export function ScaleChart(container) {
  this.container = container;
  this.key = "";
  this.columns = new Map(); // value -> {col, fill, count, label}
  this.root = el("div", "scale-chart");
  this.list = el("ol", "scale-cols");
  this.axis = el("div", "scale-axis");
  this.axis.setAttribute("aria-hidden", "true");
  this.marker = el("span", "scale-marker");
  this.axis.append(this.marker);
  this.mean = el("p", "scale-mean");
  this.root.append(this.list, this.axis, this.mean);
  container.textContent = "";
  container.append(this.root);
}

ScaleChart.prototype._build = function (values) {
  var self = this;
  this.list.textContent = "";
  this.columns = new Map();
  this.list.style.setProperty("--columns", String(values.length));
  values.forEach(function (value) {
    var col = el("li", "scale-col");
    col.dataset.value = String(value);
    var count = el("span", "scale-count", "0");
    var track = el("span", "scale-track");
    track.setAttribute("aria-hidden", "true");
    var fill = el("span", "scale-fill");
    track.append(fill);
    var label = el("span", "scale-value", String(value));
    var spoken = el("span", "visually-hidden", "");
    col.append(count, track, label, spoken);
    self.list.append(col);
    self.columns.set(value, { col: col, fill: fill, count: count, spoken: spoken });
  });
};

ScaleChart.prototype.update = function (poll) {
  var values = scaleValues(poll);
  var key = values.join(",");
  if (key !== this.key) {
    this._build(values);
    this.key = key;
  }
  var counts = poll.counts || {};
  var biggest = 0;
  values.forEach(function (v) { biggest = Math.max(biggest, counts[String(v)] || 0); });
  this.columns.forEach(function (parts, value) {
    var n = counts[String(value)] || 0;
    parts.count.textContent = formatCount(n);
    parts.count.setAttribute("aria-hidden", "true");
    parts.spoken.textContent = ": " + plural(n, "vote", "votes");
    parts.fill.style.transform = "scaleY(" + (biggest > 0 ? n / biggest : 0) + ")";
    parts.col.classList.toggle("is-leading", n > 0 && n === biggest);
  });
  var mean = typeof poll.mean === "number" ? poll.mean : null;
  this.marker.hidden = mean === null;
  if (mean !== null) {
    // Column i's middle is at (i + 0.5) / n of the width.
    var position = (mean - values[0] + 0.5) / values.length;
    this.marker.style.left = (100 * position).toFixed(2) + "%";
  }
  this.mean.textContent = "";
  this.mean.append("Average ", el("strong", "scale-mean-value", formatMean(mean)));
};

// Word cloud -------------------------------------------------------------------------------

var measureContext = null;

/* Width of `text` in px at `size` in the cloud's font. */
function measure(text, size, family) {
  if (!measureContext) measureContext = document.createElement("canvas").getContext("2d");
  measureContext.font = "700 " + size + "px " + family;
  return measureContext.measureText(text).width;
}

function overlaps(box, placed) {
  for (var i = 0; i < placed.length; i++) {
    var other = placed[i];
    if (box.x < other.x + other.w && other.x < box.x + box.w && box.y < other.y + other.h && other.y < box.y + box.h) return true;
  }
  return false;
}

/* Places [text, count] pairs (biggest first) along a spiral from the
   middle: each word takes the first spot where its box touches no other.
   Returns [{text, count, size, x, y, w, h, rank}] (x, y: the box's corner). */
export function layoutCloud(entries, family) {
  if (!entries.length) return [];
  var biggest = entries[0][1] || 1;
  var placed = [];
  entries.forEach(function (entry, rank) {
    var share = Math.sqrt(Math.max(entry[1], 0) / biggest);
    var size = Math.round(CLOUD_MIN_FONT + (CLOUD_MAX_FONT - CLOUD_MIN_FONT) * share);
    var w = measure(entry[0], size, family) + CLOUD_GAP_X;
    var h = size * 1.08 + CLOUD_GAP_Y;
    for (var step = 0; step < CLOUD_MAX_STEPS; step++) {
      var angle = step * CLOUD_STEP;
      var radius = CLOUD_SPREAD * angle;
      var box = {
        x: CLOUD_WIDE * radius * Math.cos(angle) - w / 2,
        y: radius * Math.sin(angle) - h / 2,
        w: w,
        h: h
      };
      if (!overlaps(box, placed)) {
        placed.push({ text: entry[0], count: entry[1], size: size, x: box.x, y: box.y, w: w, h: h, rank: rank });
        return;
      }
    }
  });
  return placed;
}

/* An SVG word cloud in `container`. options.onPick(text, count), when
   given, makes every word a button (the presenter hides answers with it). */
export function WordCloud(container, options) {
  this.container = container;
  this.onPick = (options && options.onPick) || null;
  this.key = null;
  this.svg = document.createElementNS(SVG, "svg");
  this.svg.setAttribute("class", "cloud");
  this.svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
  this.svg.setAttribute("role", this.onPick ? "group" : "img");
  this.empty = el("p", "cloud-empty", (options && options.emptyText) || "No answers yet.");
  container.textContent = "";
  container.append(this.svg, this.empty);
}

WordCloud.prototype.update = function (poll) {
  var entries = rankedCounts(poll).filter(function (entry) { return entry[1] > 0; });
  var key = JSON.stringify(entries);
  if (key === this.key) return;
  this.key = key;
  this.empty.hidden = entries.length > 0;
  this.svg.hidden = entries.length === 0;
  var focused = document.activeElement && this.svg.contains(document.activeElement) ? document.activeElement.getAttribute("data-text") : null;
  this.svg.textContent = "";
  if (!entries.length) return;
  var family = getComputedStyle(this.container).fontFamily || "sans-serif";
  var words = layoutCloud(entries, family);
  var minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  words.forEach(function (word) {
    minX = Math.min(minX, word.x);
    minY = Math.min(minY, word.y);
    maxX = Math.max(maxX, word.x + word.w);
    maxY = Math.max(maxY, word.y + word.h);
  });
  var pad = 8;
  var width = Math.max(CLOUD_MIN_WIDTH, maxX - minX + 2 * pad);
  var height = Math.max(CLOUD_MIN_HEIGHT, maxY - minY + 2 * pad);
  var left = (minX + maxX - width) / 2;
  var top = (minY + maxY - height) / 2;
  this.svg.setAttribute("viewBox", [left, top, width, height].map(function (n) { return n.toFixed(1); }).join(" "));
  if (!this.onPick) {
    this.svg.setAttribute("aria-label", "Word cloud: " + words.map(function (w) { return w.text + " " + formatCount(w.count); }).join(", "));
  } else {
    this.svg.setAttribute("aria-label", "Answers: select one to hide it");
  }
  var self = this;
  words.forEach(function (word) {
    var group = document.createElementNS(SVG, "g");
    group.setAttribute("class", "cloud-word");
    group.setAttribute("data-text", word.text);
    group.setAttribute("data-count", String(word.count));
    group.setAttribute("data-colour", String(word.rank % COLOURS));
    var rect = document.createElementNS(SVG, "rect");
    rect.setAttribute("class", "cloud-hit");
    rect.setAttribute("x", (word.x + 1).toFixed(1));
    rect.setAttribute("y", (word.y + 1).toFixed(1));
    rect.setAttribute("width", (word.w - 2).toFixed(1));
    rect.setAttribute("height", (word.h - 2).toFixed(1));
    rect.setAttribute("rx", "6");
    var text = document.createElementNS(SVG, "text");
    text.setAttribute("x", (word.x + word.w / 2).toFixed(1));
    text.setAttribute("y", (word.y + word.h / 2).toFixed(1));
    text.setAttribute("font-size", String(word.size));
    text.setAttribute("text-anchor", "middle");
    text.setAttribute("dominant-baseline", "central");
    text.textContent = word.text;
    var title = document.createElementNS(SVG, "title");
    title.textContent = word.text + ": " + formatCount(word.count);
    group.append(title, rect, text);
    if (self.onPick) {
      group.setAttribute("tabindex", "0");
      group.setAttribute("role", "button");
      group.setAttribute("aria-label", "Hide “" + word.text + "” (" + plural(word.count, "answer", "answers") + ")");
      group.addEventListener("click", function () { self.onPick(word.text, word.count); });
      group.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          self.onPick(word.text, word.count);
        }
      });
    }
    self.svg.append(group);
    if (focused !== null && focused === word.text) group.focus();
  });
};
