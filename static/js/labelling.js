// The labelling page: text selection -> UTF-16 offsets -> the server (which converts them to
// code points, snaps them to words and stays the authority); label hotkeys; selecting,
// relabelling and deleting spans; undo; keyboard-only selection of words.
//
// The article text container holds nothing but the text and <mark> elements, so the
// offsets counted over its text nodes are exactly the offsets into the article text.
// Every change is one htmx request that answers with the refreshed workspace.

const root = document.getElementById("labelling");
if (root && window.htmx) init(root, window.htmx);

function init(root, htmx) {
  const config = JSON.parse(document.getElementById("labelling-config").textContent);
  const hotkeys = new Map(
    config.labels.filter((l) => l.hotkey).map((l) => [l.hotkey.toLowerCase(), l.key]),
  );
  const saveState = document.getElementById("save-state");
  const deleteButton = document.getElementById("delete-selected");
  let selectedSpan = null; // id (string) of the selected span
  let cursor = null; // offsets of the last selection in the text, where word moves go on from
  let queue = Promise.resolve(); // changes are sent one after another, each on the newest version
  let pending = 0;
  let afterSwap = null; // what to do once the next workspace arrives
  let wordCache = { text: null, words: [] };

  const textEl = () => document.getElementById("article-text");
  const panel = () => document.querySelector(".span-panel");
  // The workspace says which version it shows (htmx drops <script> elements from swapped
  // content, json_script included, so these few numbers travel as data attributes).
  const live = () => {
    const data = document.getElementById("workspace").dataset;
    return { version: Number(data.version), focus: data.focus || null, locked: !!data.locked };
  };

  // Offsets

  /** The selection's UTF-16 offsets and text within the article text, or null. */
  function selectionOffsets() {
    const selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
    return rangeOffsets(selection.getRangeAt(0));
  }

  function rangeOffsets(range) {
    const text = textEl();
    if (!text) return null;
    const whole = document.createRange();
    whole.selectNodeContents(text);
    // Clip the range to the text: a drag may start in the title or end in the side panel.
    if (whole.comparePoint(range.startContainer, range.startOffset) > 0) return null;
    if (whole.comparePoint(range.endContainer, range.endOffset) < 0) return null;
    const r = range.cloneRange();
    if (whole.comparePoint(r.startContainer, r.startOffset) < 0) r.setStart(text, 0);
    if (whole.comparePoint(r.endContainer, r.endOffset) > 0) r.setEnd(text, text.childNodes.length);
    const quote = r.toString();
    if (!quote) return null;
    const before = document.createRange();
    before.setStart(text, 0);
    before.setEnd(r.startContainer, r.startOffset);
    const start = before.toString().length;
    return { start, end: start + quote.length, quote };
  }

  /** A DOM range over the article text from UTF-16 offset `start` to `end`. */
  function rangeAt(start, end) {
    const text = textEl();
    const walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    let seen = 0;
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

  function selectRange(start, end) {
    const range = rangeAt(start, end);
    if (!range) return;
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    cursor = { start, end };
    scrollIntoViewIfNeeded(range.getBoundingClientRect());
  }

  function scrollIntoViewIfNeeded(rect) {
    const top = document.getElementById("legend").getBoundingClientRect().bottom + 8;
    if (rect.top < top) window.scrollBy(0, rect.top - top);
    else if (rect.bottom > window.innerHeight - 8) window.scrollBy(0, rect.bottom - window.innerHeight + 8);
  }

  // Words, for selecting with the keyboard

  function words() {
    const text = textEl().textContent;
    if (wordCache.text !== text) {
      let list = [];
      if (window.Intl && Intl.Segmenter) {
        const segmenter = new Intl.Segmenter(document.documentElement.lang || undefined, {
          granularity: "word",
        });
        for (const s of segmenter.segment(text)) {
          if (s.isWordLike) list.push([s.index, s.index + s.segment.length]);
        }
      } else {
        for (const m of text.matchAll(/[\p{L}\p{M}\p{N}]+/gu)) list.push([m.index, m.index + m[0].length]);
      }
      wordCache = { text, words: list };
    }
    return wordCache.words;
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
    selectedSpan = id || null;
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

  // Sending changes

  function requestKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function say(text) {
    saveState.textContent = text;
  }

  /** Queue one change; it is sent on the version shown once the changes before it are in. */
  function send(url, values, then = null) {
    pending += 1;
    root.classList.add("is-saving");
    say("Saving…");
    queue = queue
      .then(() => {
        afterSwap = then;
        const body = { ...values, base_version: String(live().version), request_key: requestKey() };
        return htmx.ajax("POST", url, {
          source: root,
          target: "#workspace",
          swap: "outerHTML",
          values: body,
        });
      })
      .catch(() => say("Not saved: the server could not be reached."))
      .finally(() => {
        pending -= 1;
        if (pending) return;
        root.classList.remove("is-saving");
        if (saveState.textContent === "Saving…") say(`Saved · version ${live().version}`);
      });
  }

  function applyLabel(label) {
    if (live().locked) return say("This annotation is closed.");
    const offsets = selectionOffsets();
    if (offsets) {
      cursor = offsets;
      const snap = document.getElementById("snap-words").checked ? "1" : "0";
      send(config.addUrl, { ...offsets, label, snap }, { select: "new", used: offsets });
      return;
    }
    if (spanExists(selectedSpan)) {
      send(spanUrl(config.relabelUrl, selectedSpan), { label }, { select: "new" });
      return;
    }
    say("Select some text first, then press the label's key.");
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
      const p = document.createElement("p");
      p.className = "alert";
      p.setAttribute("role", "alert");
      p.textContent = "Not saved: the answer was not the labelling page. Reload it (you may have to log in again).";
      document.getElementById("labelling-alerts").replaceChildren(p);
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
    if (!pending) say(`Saved · version ${now.version}`);
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
      for (let m = mark; m && m.id !== "article-text"; m = m.parentElement) {
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

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing || isTextField(event.target)) return;
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
}
