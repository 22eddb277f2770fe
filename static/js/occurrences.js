// "Label every occurrence" on the labelling page (views/every_occurrence.py).
//
// Select words, press * (or the "Every occurrence" button), then a label's key (or click its
// button): the server labels the words wherever they stand as words of their own, in one
// version, and the workspace comes back saying how many. With a span selected instead of
// words, * gives the span's label to every occurrence of its words at once. Esc cancels.
// A label whose hotkey is * keeps the key; the button still works.

import { labellingPage } from "./labelling.js";
import { selectionOffsets } from "./offsets.js";

const root = document.getElementById("labelling");
const button = document.getElementById("label-every");
if (root && button && labellingPage.ready) init(labellingPage);

function init(page) {
  const config = JSON.parse(document.getElementById("labelling-config").textContent);
  const hotkeys = new Map(
    config.labels.filter((l) => l.hotkey).map((l) => [l.hotkey.toLowerCase(), l.key]),
  );
  const names = new Map(config.labels.map((l) => [l.key, l.name]));
  const url = button.dataset.url;
  const textEl = () => document.getElementById("article-text");
  const locked = () => !!document.getElementById("workspace").dataset.locked;
  let armed = null; // the selection waiting for its label: {start, end, quote}

  function say(text) {
    document.getElementById("save-state").textContent = text;
  }

  function note(text) {
    const notes = document.getElementById("labelling-notes");
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

  const clip = (text) => (text.length > 60 ? `${text.slice(0, 59)}…` : text);

  function disarm(message = "") {
    armed = null;
    button.removeAttribute("aria-pressed");
    note(message);
  }

  function begin() {
    if (locked()) return say("This annotation is closed.");
    const selection = selectionOffsets([textEl()]);
    if (selection && selection.quote.trim()) {
      armed = selection;
      button.setAttribute("aria-pressed", "true");
      note(
        `Every occurrence of “${clip(selection.quote.trim())}”: press the label's key or ` +
          "click its button (Esc cancels).",
      );
      return;
    }
    const span = page.selectedSpan();
    if (span) {
      disarm();
      say("Labelling every occurrence…");
      page.send(url, { span }, { select: "new" });
      return;
    }
    say("Select some words or a span first, then press * for every occurrence.");
  }

  function labelEvery(label) {
    const selection = armed;
    disarm();
    window.getSelection().removeAllRanges();
    say(`Labelling every occurrence as ${names.get(label) || label}…`);
    page.send(
      url,
      {
        start: String(selection.start),
        end: String(selection.end),
        quote: selection.quote,
        label,
        snap: document.getElementById("snap-words").checked ? "1" : "0",
      },
      { select: "new" },
    );
  }

  function isTextField(el) {
    if (!el || !el.tagName) return false;
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
    if (el.tagName !== "INPUT") return false;
    return !["checkbox", "radio", "button", "submit", "reset"].includes(el.type);
  }

  // Capture phase on window: before the page's own keys (labelling.js), so that the label
  // key after * labels every occurrence instead of the selection alone.
  window.addEventListener(
    "keydown",
    (event) => {
      if (event.defaultPrevented || event.isComposing || isTextField(event.target)) return;
      if (document.getElementById("confirm-span").open) return;
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const key = event.key;
      if (armed) {
        if (["Shift", "CapsLock"].includes(key)) return;
        const label = key.length === 1 ? hotkeys.get(key.toLowerCase()) : undefined;
        event.preventDefault();
        event.stopImmediatePropagation();
        if (label) labelEvery(label);
        else disarm(key === "Escape" ? "Cancelled." : "");
        return;
      }
      if (key === "*" && !hotkeys.has("*")) {
        event.preventDefault();
        event.stopImmediatePropagation();
        begin();
      }
    },
    true,
  );

  window.addEventListener(
    "click",
    (event) => {
      const labelButton = event.target.closest && event.target.closest(".label-button");
      if (!armed || !labelButton) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      labelEvery(labelButton.dataset.label);
    },
    true,
  );

  // Keep the text selection when the button is pressed, as the label buttons do.
  button.addEventListener("mousedown", (event) => event.preventDefault());
  button.addEventListener("click", () => (armed ? disarm() : begin()));
}
