// The labelling page: text selection -> UTF-16 offsets -> the server (which converts them to
// code points, snaps them to words and stays the authority); label hotkeys; selecting,
// relabelling and deleting spans; undo; keyboard-only selection of words.
//
// The article text container holds one <span class="para"> per paragraph and, inside,
// nothing but the text and <mark> elements, so the offsets counted over its text nodes are
// exactly the offsets into the article text.
//
// A new span is painted at once (snapped to words as the server will snap it) and sent; the
// server answers with what changed (the paragraphs the span touches, its list item, the
// status bar, the version), which replaces the painted guess; a refusal takes the paint back
// and says why. Relabel, delete and undo are htmx requests that answer with the workspace.
//
// For other scripts on this page: after every change to the text or the span list, the
// root element (#labelling) fires "labelling:updated" (detail: {reason, version}); when the
// selected span changes, "labelling:selected" (detail: {span}: its id, or null); and
// `labellingPage` (exported) offers redraw() and refresh() to re-render after a change, and
// send() to make a change of their own (facts.js: attributes and relations).

import {
  codePoints,
  rangeOffsets as clippedOffsets,
  snapToWords,
  spanConcerns,
} from "./offsets.js";
import { marksIn, paragraphOf, paragraphsBetween, renderParagraph } from "./paragraphs.js";

/** What other modules may use once the page has started (see the header). */
export const labellingPage = { ready: false };

const root = document.getElementById("labelling");
if (root && window.htmx) init(root, window.htmx);

function init(root, htmx) {
  followLegendHeight(document.getElementById("legend"));
  const config = JSON.parse(document.getElementById("labelling-config").textContent);
  const hotkeys = new Map(
    config.labels.filter((l) => l.hotkey).map((l) => [l.hotkey.toLowerCase(), l.key]),
  );
  const saveState = document.getElementById("save-state");
  const deleteButton = document.getElementById("delete-selected");
  const notes = document.getElementById("labelling-notes");
  const confirmDialog = document.getElementById("confirm-span");
  const csrfToken = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
  let selectedSpan = null; // id (string) of the selected span
  let cursor = null; // offsets of the last selection in the text, where word moves go on from
  let queue = Promise.resolve(); // changes are sent one after another, each on the newest version
  let pending = 0;
  let afterSwap = null; // what to do once the next workspace arrives
  let wordCache = null;
  let paintCount = 0;
  const paints = []; // spans painted but not yet confirmed by the server: {id, start, end, ...}

  const textEl = () => document.getElementById("article-text");
  const panel = () => document.querySelector(".span-panel");
  // The article text never changes while the page is open.
  const articleText = textEl() ? textEl().textContent : "";
  // The workspace says which version it shows (htmx drops <script> elements from swapped
  // content, json_script included, so these few numbers travel as data attributes).
  const live = () => {
    const data = document.getElementById("workspace").dataset;
    return { version: Number(data.version), focus: data.focus || null, locked: !!data.locked };
  };

  function updated(reason) {
    root.dispatchEvent(
      new CustomEvent("labelling:updated", { detail: { reason, version: live().version } }),
    );
  }

  // Offsets

  /** Where the selection is in the article text: {start, end, quote} in UTF-16 offsets, and
   *  `cut` ("title", "before" or "after") when it went beyond the text and was clipped. */
  function selectionInfo() {
    const selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
    return rangeInfo(selection.getRangeAt(0));
  }

  function selectionOffsets() {
    return selectionInfo();
  }

  function rangeInfo(range) {
    const text = textEl();
    if (!text) return null;
    const whole = document.createRange();
    whole.selectNodeContents(text);
    if (whole.comparePoint(range.startContainer, range.startOffset) > 0) return null;
    if (whole.comparePoint(range.endContainer, range.endOffset) < 0) return null;
    let cut = null;
    if (whole.comparePoint(range.startContainer, range.startOffset) < 0) {
      const title = document.querySelector(".article-head h1");
      cut = title && title.contains(range.startContainer) ? "title" : "before";
    } else if (whole.comparePoint(range.endContainer, range.endOffset) > 0) {
      cut = "after";
    }
    const found = cut ? clippedOffsets(text, range) : fastOffsets(range);
    return found ? { ...found, cut } : null;
  }

  /** Offsets of a range inside the text, counted from its paragraph (cheaper than counting
   *  from the start of a long text). */
  function fastOffsets(range) {
    const para = paragraphOf(range.startContainer);
    if (!para || !textEl().contains(para)) return clippedOffsets(textEl(), range);
    const quote = range.toString();
    if (!quote) return null;
    const before = document.createRange();
    before.setStart(para, 0);
    before.setEnd(range.startContainer, range.startOffset);
    const start = Number(para.dataset.u16) + before.toString().length;
    return { start, end: start + quote.length, quote };
  }

  /** A DOM range over the article text from UTF-16 offset `start` to `end`. */
  function rangeAt(start, end) {
    const paras = paragraphsBetween(textEl(), start, end);
    if (!paras.length) return null;
    const walker = document.createTreeWalker(textEl(), NodeFilter.SHOW_TEXT);
    walker.currentNode = paras[0];
    const range = document.createRange();
    let seen = Number(paras[0].dataset.u16);
    let startSet = false;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const length = node.data.length;
      if (!startSet && start < seen + length) {
        range.setStart(node, start - seen);
        startSet = true;
      }
      if (startSet && end <= seen + length) {
        range.setEnd(node, end - seen);
        return range;
      }
      seen += length;
    }
    return null;
  }

  function selectRange(start, end, { scroll = true } = {}) {
    const range = rangeAt(start, end);
    if (!range) return;
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    cursor = { start, end };
    if (scroll) scrollIntoViewIfNeeded(range.getBoundingClientRect());
  }

  function scrollIntoViewIfNeeded(rect) {
    const top = document.getElementById("legend").getBoundingClientRect().bottom + 8;
    const bar = document.getElementById("statusbar");
    const barTop = bar ? bar.getBoundingClientRect().top : window.innerHeight;
    const bottom = Math.min(window.innerHeight, barTop > top ? barTop : window.innerHeight) - 8;
    if (rect.top < top) window.scrollBy(0, rect.top - top);
    else if (rect.bottom > bottom) window.scrollBy(0, rect.bottom - bottom);
  }

  // Words, for selecting with the keyboard: the words the snapping rule makes (so "al-Kadhemi"
  // is one word, and "Iraq's" is "Iraq").

  function words() {
    if (wordCache) return wordCache;
    const text = articleText;
    const raw = [];
    if (window.Intl && Intl.Segmenter) {
      const segmenter = new Intl.Segmenter(document.documentElement.lang || undefined, {
        granularity: "word",
      });
      for (const s of segmenter.segment(text)) {
        if (s.isWordLike) raw.push([s.index, s.index + s.segment.length]);
      }
    } else {
      for (const m of text.matchAll(/[\p{L}\p{M}\p{N}]+/gu)) raw.push([m.index, m.index + m[0].length]);
    }
    const list = [];
    for (const [s, e] of raw) {
      const [a, b] = snapToWords(text, s, e);
      const last = list[list.length - 1];
      if (!last || last[0] !== a || last[1] !== b) list.push([a, b]);
    }
    wordCache = list;
    return list;
  }

  function moveByWord(forward, extend) {
    const list = words();
    if (!list.length) return;
    const current = selectionOffsets() || cursor;
    if (!current) {
      selectRange(...(forward ? list[0] : list[list.length - 1]));
      return;
    }
    if (extend && selectionOffsets()) {
      if (forward) {
        const next = list.find(([, e]) => e > current.end);
        if (next) selectRange(current.start, next[1]);
      } else {
        const previous = list.findLast(([, e]) => e < current.end && e > current.start);
        if (previous) selectRange(current.start, previous[1]);
      }
      return;
    }
    const word = forward
      ? list.find(([s]) => s >= current.end)
      : list.findLast(([, e]) => e <= current.start);
    if (word) selectRange(...word);
  }

  // Span selection

  function selectSpan(id, { scrollText = false, scrollPanel = true } = {}) {
    for (const el of document.querySelectorAll(".selected[data-span]")) el.classList.remove("selected");
    const before = selectedSpan;
    selectedSpan = id || null;
    if (selectedSpan !== before || !id) {
      root.dispatchEvent(new CustomEvent("labelling:selected", { detail: { span: selectedSpan } }));
    }
    const item = id ? document.querySelector(`.span-item[data-span="${CSS.escape(id)}"]`) : null;
    deleteButton.disabled = !item || live().locked;
    if (!id) return;
    const marks = textEl().querySelectorAll(`mark[data-span="${CSS.escape(id)}"]`);
    for (const m of marks) m.classList.add("selected");
    if (item) {
      item.classList.add("selected");
      if (scrollPanel) scrollPanelTo(item);
    }
    if (scrollText && marks[0]) scrollIntoViewIfNeeded(marks[0].getBoundingClientRect());
  }

  function scrollPanelTo(item) {
    const box = panel();
    const a = box.getBoundingClientRect();
    const b = item.getBoundingClientRect();
    if (b.top < a.top) box.scrollTop += b.top - a.top - 8;
    else if (b.bottom > a.bottom) box.scrollTop += b.bottom - a.bottom + 8;
  }

  function spanExists(id) {
    return id && document.querySelector(`.span-item[data-span="${CSS.escape(id)}"]`);
  }

  // Painting: the paragraphs a change touches are drawn again from the marks they hold
  // (painted spans included), the same way the server draws them.

  /** Draw the paragraphs that [start, end) touches again, with the painted spans. */
  function redraw(start = 0, end = articleText.length) {
    const keep = selectionOffsets();
    let touchedSelection = false;
    for (const para of paragraphsBetween(textEl(), start, end)) {
      const from = Number(para.dataset.u16);
      const text = para.textContent;
      const to = from + text.length;
      const marks = marksIn(para, (m) => !!m.dataset.pending);
      for (const p of paints) {
        if (p.start < to && p.end > from) {
          marks.push({
            key: p.id,
            start: Math.max(p.start, from) - from,
            end: Math.min(p.end, to) - from,
            continued: p.start < from,
            attrs: { label: p.label, pending: p.id, title: p.title, span: "" },
          });
        }
      }
      para.innerHTML = renderParagraph(text, marks);
      if (keep && keep.start < to && keep.end > from) touchedSelection = true;
    }
    if (touchedSelection) selectRange(keep.start, keep.end, { scroll: false });
    if (selectedSpan) selectSpan(selectedSpan, { scrollPanel: false });
  }

  function paint(start, end, label) {
    paintCount += 1;
    const quote = articleText.slice(start, end);
    const painted = { id: `p${paintCount}`, start, end, label, title: `${label}: ${quote}` };
    paints.push(painted);
    redraw(start, end);
    for (const m of textEl().querySelectorAll(`mark[data-pending="${painted.id}"]`)) {
      m.classList.add("flash");
    }
    updated("paint");
    return painted;
  }

  function unpaint(painted) {
    const at = paints.indexOf(painted);
    if (at === -1) return;
    paints.splice(at, 1);
    redraw(painted.start, painted.end);
    updated("rollback");
  }

  /** Put the server's paragraphs in place (painted spans still on their way stay painted). */
  function placeParagraphs(list) {
    const keep = selectionOffsets();
    const text = textEl();
    for (const { index, html } of list) {
      const para = text.querySelector(`.para[data-para="${index}"]`);
      if (para) para.innerHTML = html;
    }
    for (const p of paints) redraw(p.start, p.end);
    if (keep) {
      const current = selectionOffsets();
      if (!current || current.start !== keep.start || current.end !== keep.end) {
        selectRange(keep.start, keep.end, { scroll: false });
      }
    }
  }

  // Messages

  function say(text) {
    saveState.textContent = text;
  }

  function note(text) {
    if (!text) {
      notes.replaceChildren();
      return;
    }
    const p = document.createElement("p");
    p.className = "note";
    p.setAttribute("role", "status");
    p.textContent = text;
    notes.replaceChildren(p);
  }

  function alertText(text) {
    const p = document.createElement("p");
    p.className = "alert";
    p.setAttribute("role", "alert");
    p.textContent = text;
    document.getElementById("labelling-alerts").replaceChildren(p);
  }

  function alertHtml(html) {
    const alerts = document.getElementById("labelling-alerts");
    alerts.innerHTML = html;
    htmx.process(alerts);
  }

  const clip = (text, limit = 80) => (text.length <= limit ? text : `${text.slice(0, limit - 1)}…`);

  const CUT = {
    title: "Your selection started in the title, which is not part of the article text",
    before: "Your selection started before the article text",
    after: "Your selection went on past the article text",
  };

  /** Ask whether to save a span that looks like a slip; resolves to true to save it. */
  function confirmSpan({ label, reasons, quote, cut }) {
    const length = [...quote].length;
    const what = `This ${label} span ${reasons.join(" and ")}.`;
    const cutNote = cut ? ` ${CUT[cut]}: only its part inside the text would be labelled.` : "";
    confirmDialog.querySelector("#confirm-span-text").textContent =
      `${what}${cutNote} Is that what you meant?`;
    confirmDialog.querySelector(".confirm-quote").textContent =
      length > 300 ? `${[...quote].slice(0, 150).join("")} … ${[...quote].slice(-100).join("")}` : quote;
    return new Promise((resolve) => {
      confirmDialog.returnValue = "";
      confirmDialog.addEventListener(
        "close",
        () => {
          resolve(confirmDialog.returnValue === "save");
          const text = textEl();
          if (text) text.focus({ preventScroll: true });
        },
        { once: true },
      );
      confirmDialog.showModal();
      confirmDialog.querySelector("#confirm-span-cancel").focus();
    });
  }

  // Sending changes

  function requestKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  /** Queue one change; `run` is called once the changes before it are in, and sends it on
   *  the version the page then shows. */
  function enqueue(run) {
    pending += 1;
    root.classList.add("is-saving");
    say("Saving…");
    queue = queue
      .then(run)
      .catch(() => say("Not saved: the server could not be reached."))
      .finally(() => {
        pending -= 1;
        if (pending) return;
        root.classList.remove("is-saving");
        if (saveState.textContent === "Saving…") say(`Saved · version ${live().version}`);
      });
  }

  /** Send one htmx change that answers with the workspace. */
  function send(url, values, then = null) {
    enqueue(() => {
      afterSwap = then;
      const body = { ...values, base_version: String(live().version), request_key: requestKey() };
      return htmx.ajax("POST", url, {
        source: root,
        target: "#workspace",
        swap: "outerHTML",
        values: body,
      });
    });
  }

  function applyLabel(label) {
    if (live().locked) return say("This annotation is closed.");
    const offsets = selectionInfo();
    if (offsets) {
      addSpan(offsets, label);
      return;
    }
    if (spanExists(selectedSpan)) {
      send(spanUrl(config.relabelUrl, selectedSpan), { label }, { select: "new" });
      return;
    }
    say("Select some text first, then press the label's key.");
  }

  /** Add a span for the selection: snap it, ask when it looks like a slip, paint it, send it. */
  async function addSpan(selection, label) {
    const snap = document.getElementById("snap-words").checked;
    let [start, end] = [selection.start, selection.end];
    if (snap) [start, end] = snapToWords(articleText, start, end);
    const quote = articleText.slice(start, end);
    if (!quote.trim()) return say("Select some words first, then press the label's key.");
    const reasons = spanConcerns(articleText, start, end, config.longSpanChars);
    note(selection.cut ? `${CUT[selection.cut]}: only “${clip(quote)}” was labelled.` : "");
    if (reasons.length && !(await confirmSpan({ label, reasons, quote, cut: selection.cut }))) {
      say("Not saved: cancelled.");
      return;
    }
    window.getSelection().removeAllRanges();
    cursor = { start, end };
    const painted = paint(start, end, label);
    const values = {
      start: String(selection.start),
      end: String(selection.end),
      quote: selection.quote,
      label,
      snap: snap ? "1" : "0",
      confirm: reasons.length ? "1" : "0",
    };
    enqueue(() => postSpan(painted, values, selectedSpan));
  }

  async function postSpan(painted, values, selectedBefore) {
    const body = new URLSearchParams({
      ...values,
      base_version: String(live().version),
      request_key: requestKey(),
    });
    let response;
    try {
      response = await fetch(config.addUrl, {
        method: "POST",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken },
        body,
        credentials: "same-origin",
      });
    } catch {
      unpaint(painted);
      alertText("Not saved: the server could not be reached. The highlight was taken back; check the connection and label the words again.");
      say("Not saved");
      return;
    }
    const data = (response.headers.get("Content-Type") || "").includes("application/json")
      ? await response.json()
      : null;
    if (!data) {
      unpaint(painted);
      alertText("Not saved: the answer was not the labelling page. Reload it (you may have to log in again).");
      say("Not saved");
      return;
    }
    if (!response.ok) {
      if (data.confirm && values.confirm !== "1") {
        // The server asks for a confirmation the page did not foresee: ask, then resend.
        const sure = await confirmSpan({
          label: values.label,
          reasons: data.confirm.reasons,
          quote: data.confirm.text,
          cut: null,
        });
        if (sure) return postSpan(painted, { ...values, confirm: "1" }, selectedBefore);
        unpaint(painted);
        say("Not saved: cancelled.");
        return;
      }
      unpaint(painted);
      alertHtml(data.alert);
      say(`Not saved · the highlight of “${clip(painted.title.slice(values.label.length + 2), 40)}” was taken back`);
      return;
    }
    const at = paints.indexOf(painted);
    if (at !== -1) paints.splice(at, 1);
    document.getElementById("labelling-alerts").replaceChildren();
    if (data.workspace) {
      swapWorkspace(data.workspace, { select: "new" });
      return;
    }
    applyChanges(data, selectedBefore);
  }

  /** Put in place what one added span changed (see annotate.views.labelling). */
  function applyChanges(data, selectedBefore) {
    placeParagraphs(data.paragraphs);
    if (data.item && data.created) insertItem(data.item);
    document.querySelector("#span-panel-title .count").textContent = String(data.count);
    const bar = document.getElementById("statusbar");
    const template = document.createElement("template");
    template.innerHTML = data.statusbar.trim();
    const freshBar = template.content.firstElementChild;
    bar.replaceWith(freshBar);
    htmx.process(freshBar);
    const workspace = document.getElementById("workspace");
    workspace.dataset.version = String(data.version);
    workspace.dataset.focus = String(data.span.id);
    const id = String(data.span.id);
    // Select the new span unless the editor has moved on to another one meanwhile.
    if (selectedSpan === selectedBefore || !spanExists(selectedSpan)) {
      selectSpan(id, { scrollPanel: true });
      for (const m of textEl().querySelectorAll(`mark[data-span="${CSS.escape(id)}"]`)) {
        m.classList.add("flash");
      }
    }
    if (!pending || pending === 1) say(`Saved · version ${data.version}`);
    updated("server");
  }

  function insertItem(item) {
    const section = document.getElementById(`group-${item.label}`).closest(".span-group");
    let list = section.querySelector(".span-list");
    if (!list) {
      list = document.createElement("ol");
      list.className = "span-list";
      const empty = section.querySelector(".empty");
      if (empty) empty.replaceWith(list);
      else section.append(list);
    }
    const template = document.createElement("template");
    template.innerHTML = item.html.trim();
    const li = template.content.firstElementChild;
    const after = item.after
      ? list.querySelector(`.span-item[data-span="${CSS.escape(String(item.after))}"]`)
      : null;
    if (after) after.closest("li").after(li);
    else list.prepend(li);
    section.querySelector("h3 .count").textContent = String(item.count);
  }

  function spanUrl(template, id) {
    return template.replace(config.placeholder, id);
  }

  function deleteSelected() {
    const item = spanExists(selectedSpan);
    if (!item || live().locked) return;
    const items = [...document.querySelectorAll(".span-item")];
    send(spanUrl(config.deleteUrl, selectedSpan), {}, { index: items.indexOf(item) });
    selectSpan(null);
  }

  function undo() {
    const button = document.getElementById("undo-button");
    // With changes still on their way, the button does not know yet: let the server decide.
    if (!pending && (!button || button.disabled)) return say("Nothing to undo.");
    send(config.undoUrl, {});
  }

  function focusKind() {
    const active = document.activeElement;
    if (active === textEl()) return "text";
    if (active && active.closest(".span-panel")) return "panel";
    return null;
  }

  /** Fetch the workspace as the server has it now and show it (for other scripts, after a
   *  change of their own). */
  function refresh() {
    enqueue(() =>
      htmx.ajax("GET", window.location.pathname, {
        source: root,
        target: "#workspace",
        swap: "outerHTML",
      }),
    );
  }

  // Swaps. The workspace is swapped here rather than by htmx: htmx cleans up the old content
  // element by element (an event each), which costs more than the rest of the update on a
  // page with hundreds of spans.

  document.body.addEventListener("htmx:beforeSwap", (event) => {
    const xhr = event.detail.xhr;
    if (xhr.getResponseHeader("HX-Retarget") === "#labelling-alerts") {
      // A refused change: show why, in place; nothing was saved.
      event.detail.shouldSwap = true;
      event.detail.isError = false;
      afterSwap = null;
      say("Not saved");
      return;
    }
    const target = event.detail.target;
    if (!target || target.id !== "workspace" || !event.detail.shouldSwap) return;
    event.detail.shouldSwap = false;
    const state = afterSwap || {};
    afterSwap = null;
    const incoming = Number(xhr.getResponseHeader("X-Annotation-Version"));
    if (Number.isFinite(incoming) && incoming < live().version) return; // a late, older answer
    swapWorkspace(event.detail.serverResponse, state);
  });

  document.body.addEventListener("htmx:sendError", () => {
    say("Not saved: the server could not be reached. Check the connection and try again.");
  });

  function swapWorkspace(html, state) {
    const template = document.createElement("template");
    template.innerHTML = html;
    const fresh = template.content.getElementById("workspace");
    if (!fresh) {
      // Not the workspace: most likely the login page, after the session ended.
      say("Not saved");
      alertText("Not saved: the answer was not the labelling page. Reload it (you may have to log in again).");
      return;
    }
    const keep = selectionOffsets();
    const used = state.used;
    const keepSelection =
      keep && !(used && keep.start === used.start && keep.end === used.end) ? keep : null;
    const panelScroll = panel() ? panel().scrollTop : 0;
    const previous = selectedSpan;
    const focus = focusKind();

    document.getElementById("workspace").replaceWith(fresh);
    htmx.process(fresh);
    document.getElementById("labelling-alerts").replaceChildren();
    for (const p of paints) redraw(p.start, p.end); // spans still on their way stay painted
    panel().scrollTop = panelScroll;
    const now = live();
    window.getSelection().removeAllRanges();
    let chosen = null;
    if (state.select === "new" && now.focus) chosen = String(now.focus);
    else if (spanExists(previous)) chosen = previous;
    selectSpan(chosen);
    if (chosen && state.select === "new") {
      for (const m of textEl().querySelectorAll(`mark[data-span="${CSS.escape(chosen)}"]`)) {
        m.classList.add("flash");
      }
    }
    if (keepSelection) selectRange(keepSelection.start, keepSelection.end);
    if (focus === "text") textEl().focus({ preventScroll: true });
    else if (focus === "panel") {
      const items = [...document.querySelectorAll(".span-item")];
      let target = chosen ? spanExists(chosen) : null;
      if (!target && items.length) target = items[Math.min(state.index ?? 0, items.length - 1)];
      (target || textEl()).focus({ preventScroll: true });
    }
    if (!pending || pending === 1) say(`Saved · version ${now.version}`);
    updated("workspace");
  }

  // Mouse

  root.addEventListener("mouseup", () => {
    const offsets = selectionOffsets();
    if (offsets) cursor = offsets;
  });

  root.addEventListener("mousedown", (event) => {
    // Keep the text selection when a label button is clicked.
    if (event.target.closest(".label-button")) event.preventDefault();
  });

  root.addEventListener("click", (event) => {
    const button = event.target.closest(".label-button");
    if (button) {
      applyLabel(button.dataset.label);
      return;
    }
    if (event.target.closest("#delete-selected")) {
      deleteSelected();
      return;
    }
    const item = event.target.closest(".span-item");
    if (item) {
      // With the script, the list selects; without it, the link opens the span's own page.
      event.preventDefault();
      item.focus();
      selectSpan(item.dataset.span, { scrollText: true, scrollPanel: false });
      return;
    }
    const mark = event.target.closest("#article-text mark.span");
    if (mark) {
      if (!window.getSelection().isCollapsed) return; // the end of a drag, not a click
      // The innermost span first; clicking again selects the span around it.
      const chain = [];
      for (let m = mark; m && m.tagName === "MARK"; m = m.parentElement) {
        if (m.dataset.span && !chain.includes(m.dataset.span)) chain.push(m.dataset.span);
      }
      const at = chain.indexOf(selectedSpan);
      selectSpan(chain[at === -1 ? 0 : (at + 1) % chain.length]);
      return;
    }
    if (event.target.closest("#article-text") && window.getSelection().isCollapsed) {
      selectSpan(null);
    }
  });

  root.addEventListener("focusin", (event) => {
    const item = event.target.closest(".span-item");
    if (item && item.dataset.span !== selectedSpan) {
      selectSpan(item.dataset.span, { scrollText: true, scrollPanel: false });
    }
  });

  // Keyboard

  function isTextField(el) {
    if (!el || !el.tagName) return false;
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
    if (el.tagName !== "INPUT") return false;
    return !["checkbox", "radio", "button", "submit", "reset"].includes(el.type);
  }

  function goToText() {
    const text = textEl();
    text.focus({ preventScroll: true });
    const top = document.getElementById("legend").getBoundingClientRect().bottom + 8;
    const rect = text.getBoundingClientRect();
    if (rect.top > window.innerHeight / 2 || rect.bottom < top) window.scrollBy(0, rect.top - top);
  }

  const skipLink = document.getElementById("skip-to-text");
  if (skipLink) {
    skipLink.addEventListener("click", (event) => {
      event.preventDefault();
      goToText();
    });
  }

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing || isTextField(event.target)) return;
    if (confirmDialog.open) return; // the dialog's own keys: Enter, Tab, Esc
    const key = event.key;
    const command = event.ctrlKey || event.metaKey;
    if (command && !event.altKey && !event.shiftKey && key.toLowerCase() === "z") {
      event.preventDefault();
      undo();
      return;
    }
    if (command || event.altKey) return;
    if (key === "Escape") {
      window.getSelection().removeAllRanges();
      selectSpan(null);
      note("");
      const help = document.querySelector(".keys-help[open]");
      if (help) help.open = false;
      return;
    }
    if ((key === "Delete" || key === "Backspace") && selectedSpan && !selectionOffsets()) {
      event.preventDefault();
      deleteSelected();
      return;
    }
    const label = key.length === 1 ? hotkeys.get(key.toLowerCase()) : undefined;
    if (label) {
      event.preventDefault();
      applyLabel(label);
      return;
    }
    if (key === "/") {
      event.preventDefault();
      goToText();
      return;
    }
    if (event.target === textEl() && (key === "ArrowRight" || key === "ArrowLeft")) {
      event.preventDefault();
      // Word order follows the text, whatever its direction on screen.
      moveByWord(key === "ArrowRight", event.shiftKey);
      return;
    }
    const item = event.target.closest && event.target.closest(".span-item");
    if (item && ["ArrowDown", "ArrowUp", "Home", "End"].includes(key)) {
      event.preventDefault();
      const all = [...document.querySelectorAll(".span-item")];
      const at = all.indexOf(item);
      const next = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: all.length - 1 }[key];
      if (all[next]) {
        all[next].focus();
        scrollPanelTo(all[next]);
      }
    }
  });

  const first = live();
  if (first.focus) selectSpan(String(first.focus));

  Object.assign(labellingPage, {
    ready: true,
    /** Draw the paragraphs that [start, end) (UTF-16 offsets) touches again. */
    redraw,
    /** Reload the workspace from the server (after another script changed the annotation). */
    refresh,
    /** Send a change (POST `url` with `values`; the base version and a request key are
     *  added) after those on their way; the answer is the workspace. `then`: {select:
     *  "new"} selects the span the server focuses. */
    send,
    /** The span selected in the text and the list (its id as a string), or null. */
    selectedSpan: () => selectedSpan,
    selectSpan,
    /** The code-point offset of a UTF-16 offset into the article text. */
    codePoints: (offset) => codePoints(articleText, offset),
  });
  root.dispatchEvent(new CustomEvent("labelling:ready", { detail: labellingPage }));
}

/** Keep the scroll margin of the text and of the span list at the sticky label bar's height,
 * so that jumping to either stops below the bar, however many rows it wraps into on a narrow
 * screen. Set on those two elements only, and only when the height changes: a property on
 * the root would restyle the whole page, the 500 marks of the text included. */
function followLegendHeight(legend) {
  if (!legend || !window.ResizeObserver) return;
  const targets = ["article-text", "span-panel-title"].map((id) => document.getElementById(id));
  let height = -1;
  new ResizeObserver(() => {
    if (legend.offsetHeight === height) return;
    height = legend.offsetHeight;
    for (const el of targets) el?.style.setProperty("scroll-margin-top", `${height + 16}px`);
  }).observe(legend);
}
