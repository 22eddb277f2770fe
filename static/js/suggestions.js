// Suggestions on the labelling page: spans that final gold of the project marks elsewhere, and
// a model's predictions, drawn dashed over the text. They are offers: nothing is saved until
// the editor accepts one (Enter, or "Accept"), or all of one label (Shift+Enter, or "Accept
// all"); rejecting one (-, or "Reject") hides it for good. ] and [ go to the next and previous
// suggestion; a click on a dashed one makes it the current one.
//
// The list comes from GET /api/articles/<id>/suggestions/ (code-point offsets, converted here
// to the UTF-16 offsets the DOM counts). Suggestions are drawn by wrapping the text nodes
// they cover in <span class="sugg"> elements, so the text nodes still spell the article and
// labelling.js counts offsets as before; its redraws drop the wrappers, and they are drawn
// again on every "labelling:updated". Accepting goes through labellingPage.send (one version,
// answered with the workspace); the list is read again after every saved change.

import { labellingPage } from "./labelling.js";
import { paragraphsBetween } from "./paragraphs.js";

const box = document.getElementById("suggestions");
const root = document.getElementById("labelling");
if (box && root) {
  if (labellingPage.ready) init(labellingPage);
  else root.addEventListener("labelling:ready", (event) => init(event.detail), { once: true });
}

function init(page) {
  const data = box.dataset;
  const csrfToken = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
  const textEl = () => document.getElementById("article-text");
  const articleText = textEl().textContent;
  const scoreInput = document.getElementById("suggestion-min-score");
  const scoreOutput = document.getElementById("suggestion-min-score-value");
  const status = document.getElementById("suggestion-current");
  const countEl = box.querySelector(".suggestion-count");
  const perLabel = document.getElementById("suggestion-labels");
  const labelNames = new Map(
    JSON.parse(document.getElementById("labelling-config").textContent).labels.map((l) => [
      l.key,
      l.name,
    ]),
  );
  let all = []; // as the server sent them, with UTF-16 offsets added
  let shown = []; // those above the score threshold, in text order
  let current = -1; // index into `shown`
  let loaded = -1; // the annotation version the list was read for
  let loading = null;

  const version = () => Number(document.getElementById("workspace").dataset.version);
  const locked = () => !!document.getElementById("workspace").dataset.locked;
  const minScore = () => (scoreInput ? Number(scoreInput.value) : 0);

  /** UTF-16 offsets of code-point offsets, in one pass over the text. */
  function toUtf16(points) {
    const wanted = [...new Set(points)].sort((a, b) => a - b);
    const found = new Map();
    let cp = 0;
    let i = 0;
    let w = 0;
    while (w < wanted.length) {
      if (cp === wanted[w]) {
        found.set(wanted[w], i);
        w += 1;
        continue;
      }
      if (i >= articleText.length) break;
      const c = articleText.charCodeAt(i);
      i += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
      cp += 1;
    }
    return found;
  }

  async function load() {
    if (locked()) {
      all = [];
      draw();
      return;
    }
    const asked = version();
    const response = await fetch(data.api, { headers: { Accept: "application/json" } });
    if (!response.ok) {
      status.textContent = "Suggestions could not be loaded.";
      return;
    }
    const body = await response.json();
    const offsets = toUtf16(body.suggestions.flatMap((s) => [s.start, s.end]));
    all = body.suggestions.map((s) => ({ ...s, u16start: offsets.get(s.start), u16end: offsets.get(s.end) }));
    loaded = asked;
    draw();
  }

  function reload() {
    if (!loading) loading = load().finally(() => (loading = null));
    return loading;
  }

  function keyOf(s) {
    return s ? `${s.start}:${s.end}:${s.label}` : null;
  }

  function origin(s) {
    if (s.origin === "gold") return "from final gold";
    const score = s.score === null || s.score === undefined ? "no score" : `score ${s.score.toFixed(2)}`;
    return `from model ${s.model} (${score})`;
  }

  function describe(s) {
    return `${labelNames.get(s.label) || s.label}: “${s.text}” · ${origin(s)}`;
  }

  // Drawing

  function clear() {
    const touched = new Set();
    for (const el of textEl().querySelectorAll("span.sugg")) {
      touched.add(el.parentNode);
      el.replaceWith(...el.childNodes);
    }
    for (const parent of touched) if (parent.isConnected) parent.normalize();
  }

  function wrap(s, index) {
    for (const para of paragraphsBetween(textEl(), s.u16start, s.u16end)) {
      let pos = Number(para.dataset.u16);
      const nodes = [];
      const walker = document.createTreeWalker(para, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        nodes.push([n, pos, n.data.length]);
        pos += n.data.length;
      }
      for (const [node, at, length] of nodes) {
        const a = Math.max(s.u16start, at);
        const b = Math.min(s.u16end, at + length);
        if (a >= b) continue;
        let piece = node;
        if (a > at) piece = piece.splitText(a - at);
        if (b < at + length) piece.splitText(b - a);
        const el = document.createElement("span");
        el.className = `sugg sugg-${s.origin} lbl-${s.label}`;
        el.dataset.sugg = String(index);
        el.title = `Suggestion · ${describe(s)}`;
        piece.replaceWith(el);
        el.appendChild(piece);
      }
    }
  }

  function draw() {
    const keep = keyOf(shown[current]);
    const threshold = minScore();
    shown = all.filter((s) => s.origin === "gold" || (s.score ?? 0) >= threshold);
    current = keep ? shown.findIndex((s) => keyOf(s) === keep) : -1;
    clear();
    shown.forEach(wrap);
    countEl.textContent = String(shown.length);
    if (scoreInput) scoreInput.closest("label").hidden = !all.some((s) => s.origin === "model");
    box.classList.toggle("is-empty", shown.length === 0);
    labelButtons();
    mark();
  }

  function labelButtons() {
    const counts = new Map();
    for (const s of shown) counts.set(s.label, (counts.get(s.label) || 0) + 1);
    perLabel.replaceChildren(
      ...[...counts].map(([label, n]) => {
        const li = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.className = `accept-all lbl-${label}`;
        button.dataset.label = label;
        button.textContent = `Accept all ${labelNames.get(label) || label} (${n})`;
        li.append(button);
        return li;
      }),
    );
  }

  function mark() {
    for (const el of textEl().querySelectorAll("span.sugg.current")) el.classList.remove("current");
    const s = shown[current];
    for (const button of box.querySelectorAll(".needs-current")) button.disabled = !s;
    if (!s) {
      status.textContent = shown.length
        ? `${shown.length} suggestion${shown.length === 1 ? "" : "s"}: press ] to go to the first.`
        : "No suggestions in this article.";
      return;
    }
    for (const el of textEl().querySelectorAll(`span.sugg[data-sugg="${current}"]`)) el.classList.add("current");
    status.textContent = `Suggestion ${current + 1} of ${shown.length} · ${describe(s)}`;
  }

  function go(step) {
    if (!shown.length) return;
    current = current === -1 ? (step > 0 ? 0 : shown.length - 1) : (current + step + shown.length) % shown.length;
    page.selectSpan(null);
    mark();
    const first = textEl().querySelector(`span.sugg[data-sugg="${current}"]`);
    if (first) first.scrollIntoView({ block: "nearest" });
  }

  // Changes

  const filters = () => ({ min_score: minScore() > 0 ? String(minScore()) : "" });

  function accept() {
    const s = shown[current];
    if (!s || locked()) return;
    status.textContent = `Accepting ${describe(s)}…`;
    page.send(data.acceptUrl, { start: String(s.start), end: String(s.end), label: s.label, ...filters() }, { select: "new" });
  }

  function acceptAll(label) {
    if (locked()) return;
    status.textContent = `Accepting every ${labelNames.get(label) || label} suggestion…`;
    page.send(data.acceptAllUrl, { label, ...filters() });
  }

  async function reject() {
    const s = shown[current];
    if (!s || locked()) return;
    const body = new URLSearchParams({ start: String(s.start), end: String(s.end), label: s.label });
    const response = await fetch(data.rejectUrl, {
      method: "POST",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken },
      body,
    });
    if (!response.ok) {
      const answer = await response.json().catch(() => ({}));
      status.textContent = `Not rejected: ${answer.detail || "the server refused."}`;
      return;
    }
    const at = all.indexOf(s);
    if (at !== -1) all.splice(at, 1);
    const next = current;
    draw();
    current = shown.length ? Math.min(next, shown.length - 1) : -1;
    mark();
    status.textContent = `Rejected ${describe(s)}. ` + status.textContent;
  }

  // Events

  root.addEventListener("labelling:updated", (event) => {
    // A new version: what is offered may have changed (an accepted suggestion is a span now).
    if (event.detail.version !== loaded && event.detail.reason !== "paint") reload();
    else draw();
  });
  root.addEventListener("labelling:selected", (event) => {
    if (event.detail && event.detail.span && current !== -1) {
      current = -1;
      mark();
    }
  });

  box.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.id === "suggestion-next") go(1);
    else if (button.id === "suggestion-prev") go(-1);
    else if (button.id === "suggestion-accept") accept();
    else if (button.id === "suggestion-reject") reject();
    else if (button.dataset.label) acceptAll(button.dataset.label);
  });

  textEl().addEventListener("click", (event) => {
    if (!window.getSelection().isCollapsed) return;
    if (event.target.closest("mark.span")) return; // a span's own click selects the span
    const el = event.target.closest("span.sugg");
    if (!el) return;
    current = Number(el.dataset.sugg);
    mark();
  });

  if (scoreInput) {
    scoreInput.addEventListener("input", () => {
      scoreOutput.textContent = Number(scoreInput.value).toFixed(2);
      draw();
    });
  }

  const TYPING = 'textarea, select, [contenteditable="true"], input:not([type="range"]):not([type="checkbox"]):not([type="radio"]):not([type="button"]):not([type="submit"])';
  const typing = (el) => !!(el && el.closest && el.closest(TYPING));
  // Enter on these does what they do (a button presses itself).
  const activates = (el) => !!(el && el.closest && el.closest("button, a, summary, input"));

  // Capture phase: before labelling.js and facts.js, so Enter and - mean the suggestion only
  // when one is current.
  document.addEventListener(
    "keydown",
    (event) => {
      if (event.defaultPrevented || event.isComposing || event.ctrlKey || event.metaKey || event.altKey) return;
      if (typing(event.target) || document.querySelector("dialog[open]")) return;
      const key = event.key;
      if (key === "]" || key === "[") {
        event.preventDefault();
        go(key === "]" ? 1 : -1);
      } else if (current !== -1 && key === "Enter" && !activates(event.target)) {
        event.preventDefault();
        if (event.shiftKey) acceptAll(shown[current].label);
        else accept();
      } else if (current !== -1 && key === "-") {
        event.preventDefault();
        reject();
      } else if (current !== -1 && key === "Escape") {
        current = -1;
        mark();
      }
    },
    true,
  );

  box.hidden = false;
  reload();
}
