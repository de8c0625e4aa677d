/* pollhub: small DOM helpers shared by both pages. */

import { statusText } from "./format.js";

/* A new element with a class and text. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/* A copy of the <template id=id>'s first element, and its parts: every
   descendant with a data-part attribute, by that name. */
export function fromTemplate(id) {
  const template = document.getElementById(id);
  const root = template.content.firstElementChild.cloneNode(true);
  const parts = { root: root };
  root.querySelectorAll("[data-part]").forEach((node) => {
    parts[node.dataset.part] = node;
    node.removeAttribute("data-part");
  });
  return parts;
}

/* Shows the connection state in an element with a .status-text child. */
export function showStatus(node, state) {
  node.dataset.state = state === "open" ? "open" : state === "stopped" ? "stopped" : "waiting";
  node.querySelector(".status-text").textContent = statusText(state);
}

/* A function that runs fn once on the next animation frame, however often it is called before. */
export function onNextFrame(fn) {
  let queued = false;
  return function () {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      fn();
    });
  };
}

/* Sets a number or text field's limits (min, max, maxlength) as attributes. */
export function setBounds(input, bounds) {
  Object.keys(bounds).forEach((name) => input.setAttribute(name, String(bounds[name])));
}
