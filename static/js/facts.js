// Facts on the labelling page: the selected span's attributes and relations in the side
// panel, link mode to relate two spans, and the marks of the spans a selected span is linked
// to. Plain JS on top of labelling.js, through what it offers other scripts: the events
// "labelling:selected" and "labelling:updated" on #labelling, and labellingPage.send() for
// writes (so that they queue behind the page's own and answer with the workspace).
//
// Keys (when no text field has the focus): R starts link mode on the selected span (unless a
// label uses R as its key); A goes to its attributes. In link mode the spans it can link to
// are marked; arrows move among them in text order (scrolling them into view), Enter or a
// click picks one, Esc cancels; when several relation types fit, a chooser asks which
// (a digit, or arrows and Enter). In the attributes form Enter saves, Esc goes back to the
// text. Proposed values (the server reads them from the span's words) are saved only when
// the editor confirms them.

import { labellingPage } from "./labelling.js";

const root = document.getElementById("labelling");
const configEl = document.getElementById("facts-config");
if (root && configEl && labellingPage.ready) init(root, JSON.parse(configEl.textContent));

function init(root, config) {
  const page = labellingPage;
  const labelConfig = JSON.parse(document.getElementById("labelling-config").textContent);
  const labelKeys = new Set(labelConfig.labels.filter((l) => l.hotkey).map((l) => l.hotkey.toLowerCase()));
  const LINK_KEY = "r";
  const ATTRIBUTES_KEY = "a";
  const types = config.relationTypes;
  let link = null; // link mode: {source, label, candidates: [{id, label, fits}], at}
  let chooser = null; // the <dialog> asking which relation type
  let panelFor = null; // the span whose panel is loading or shown
  let panelTimer = null;
  let panelRequest = 0;
  let focusAttributes = false; // focus the attributes form once the panel arrives

  const textEl = () => document.getElementById("article-text");
  const panelEl = () => document.getElementById("facts-panel");
  const version = () => Number(document.getElementById("workspace").dataset.version);
  const url = (template, id) => template.replace(config.placeholder, String(id));
  const marksOf = (id) => textEl().querySelectorAll(`mark[data-span="${CSS.escape(String(id))}"]`);

  const banner = document.createElement("div");
  banner.id = "link-banner";
  banner.className = "link-banner";
  banner.setAttribute("role", "status");
  banner.hidden = true;
  root.append(banner);

  function say(text) {
    const state = document.getElementById("save-state");
    if (state) state.textContent = text;
  }

  // Linked spans: selecting a span marks the spans it is related to, in the text and the list.

  function linkedIds(id) {
    const item = id ? document.querySelector(`.span-item[data-span="${CSS.escape(String(id))}"]`) : null;
    const facts = item ? item.parentElement.querySelector(".span-facts") : null;
    return facts && facts.dataset.linked ? facts.dataset.linked.split(" ") : [];
  }

  function markLinked(id) {
    for (const el of document.querySelectorAll(".linked[data-span]")) el.classList.remove("linked");
    for (const other of linkedIds(id)) {
      for (const m of marksOf(other)) m.classList.add("linked");
      const item = document.querySelector(`.span-item[data-span="${CSS.escape(other)}"]`);
      if (item) item.classList.add("linked");
    }
  }

  // The side panel: the selected span's facts, loaded from the server (which proposes values
  // for a figure nothing is saved for yet).

  function showPanel(id, { now = false } = {}) {
    const panel = panelEl();
    if (!panel) return;
    if (!id) {
      panelFor = null;
      clearTimeout(panelTimer);
      panel.hidden = true;
      panel.replaceChildren();
      return;
    }
    const box = panel.querySelector(".facts-box");
    if (box && box.dataset.span === String(id) && Number(box.dataset.version) === version()) {
      panelFor = String(id);
      panel.hidden = false;
      if (focusAttributes) focusForm();
      return;
    }
    panelFor = String(id);
    clearTimeout(panelTimer);
    // Moving through the list with the arrow keys: load the panel of the span they stop at.
    panelTimer = setTimeout(() => loadPanel(String(id)), now ? 0 : 120);
  }

  async function loadPanel(id) {
    const asked = ++panelRequest;
    let response;
    try {
      response = await fetch(url(config.panelUrl, id), {
        headers: { "HX-Request": "true" },
        credentials: "same-origin",
      });
    } catch {
      return;
    }
    if (asked !== panelRequest || panelFor !== id) return; // another span was selected since
    const panel = panelEl();
    if (!panel) return;
    if (!response.ok) {
      panel.hidden = true;
      panel.replaceChildren();
      return;
    }
    panel.innerHTML = await response.text();
    panel.hidden = false;
    if (focusAttributes) focusForm();
  }

  function focusForm() {
    focusAttributes = false;
    const form = panelEl() && panelEl().querySelector(".attributes-form");
    const first = form && form.querySelector("input:not([type=hidden]), select");
    if (first) {
      first.focus();
      first.scrollIntoView({ block: "nearest" });
    } else say("This span's label has no attributes.");
  }

  function goToAttributes() {
    const id = page.selectedSpan();
    if (!id) return say("Select a span first, then press A for its attributes.");
    const box = panelEl() && panelEl().querySelector(".facts-box");
    focusAttributes = true;
    if (box && box.dataset.span === id) focusForm();
    else showPanel(id, { now: true });
  }

  function backToText() {
    const text = textEl();
    text.focus({ preventScroll: true });
    const id = page.selectedSpan();
    if (id) page.selectSpan(id, { scrollText: true, scrollPanel: false });
  }

  // Writes: through the page's queue; the answer is the workspace.

  function formValues(form) {
    const values = {};
    for (const [name, value] of new FormData(form)) {
      if (name === "csrfmiddlewaretoken" || name === "base_version") continue;
      // A checkbox follows a hidden field of the same name: ticked wins.
      if (!(name in values) || value !== "") values[name] = value;
    }
    return values;
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.closest || !root.contains(form)) return;
    if (form.matches(".attributes-form")) {
      event.preventDefault();
      // The span gets a new row with its new values: select it once the workspace is back.
      page.send(form.action, formValues(form), { select: "new" });
      say("Saving attributes…");
    } else if (form.matches(".relation-remove-form, .relation-add-form")) {
      event.preventDefault();
      page.send(form.action, formValues(form));
    } else if (form.id === "relation-remove") {
      event.preventDefault();
      const button = event.submitter;
      if (button && button.formAction) page.send(button.formAction, {});
    }
  });

  // Link mode

  function fitsBetween(source, other) {
    const fits = [];
    for (const t of types) {
      const out = (!t.from || t.from.includes(source)) && (!t.to || t.to.includes(other));
      const back = (!t.from || t.from.includes(other)) && (!t.to || t.to.includes(source));
      if (out) fits.push({ type: t.key, name: t.name, out: true });
      if (back) fits.push({ type: t.key, name: t.name, out: false });
    }
    return fits;
  }

  function spansInTextOrder() {
    const seen = new Map();
    for (const m of textEl().querySelectorAll("mark[data-span]")) {
      if (!seen.has(m.dataset.span)) seen.set(m.dataset.span, m.dataset.label);
    }
    return [...seen].map(([id, label]) => ({ id, label }));
  }

  const quoteOf = (id) => {
    const item = document.querySelector(`.span-item[data-span="${CSS.escape(id)}"] .quote`);
    return item ? item.textContent : [...marksOf(id)].map((m) => m.textContent).join("");
  };

  function startLink() {
    if (document.getElementById("workspace").dataset.locked) return say("This annotation is closed.");
    const source = page.selectedSpan();
    if (!source) return say("Select a span first, then press R to link it to another.");
    const all = spansInTextOrder();
    const me = all.find((s) => s.id === source);
    if (!me) return;
    const candidates = all
      .filter((s) => s.id !== source)
      .map((s) => ({ ...s, fits: fitsBetween(me.label, s.label) }))
      .filter((s) => s.fits.length);
    if (!candidates.length) {
      return say(`No relation type links a ${me.label} span to the spans in this text.`);
    }
    const after = candidates.findIndex((c) => all.findIndex((s) => s.id === c.id) > all.indexOf(me));
    link = { source, label: me.label, candidates, at: after === -1 ? 0 : after };
    root.classList.add("linking");
    for (const m of marksOf(source)) m.classList.add("link-source");
    for (const c of candidates) for (const m of marksOf(c.id)) m.classList.add("link-candidate");
    window.getSelection().removeAllRanges();
    textEl().focus({ preventScroll: true });
    point();
  }

  function point() {
    for (const m of textEl().querySelectorAll(".link-current")) m.classList.remove("link-current");
    const c = link.candidates[link.at];
    const marks = marksOf(c.id);
    for (const m of marks) m.classList.add("link-current");
    if (marks[0]) scrollToMark(marks[0]);
    banner.hidden = false;
    banner.replaceChildren(
      text(`Link “${clip(quoteOf(link.source), 40)}” to `),
      strong(`“${clip(quoteOf(c.id), 60)}” (${c.label}, ${link.at + 1} of ${link.candidates.length})`),
      text(" · ← → other spans · Enter or click: link · Esc: cancel "),
      cancelButton(),
    );
  }

  function scrollToMark(mark) {
    const rect = mark.getBoundingClientRect();
    const legend = document.getElementById("legend");
    const top = legend ? legend.getBoundingClientRect().bottom : 0;
    const bar = document.getElementById("statusbar");
    const bottom = bar ? Math.min(bar.getBoundingClientRect().top, window.innerHeight) : window.innerHeight;
    if (rect.top < top + 8 || rect.bottom > bottom - 40) mark.scrollIntoView({ block: "center" });
  }

  const text = (s) => document.createTextNode(s);
  function strong(s) {
    const el = document.createElement("strong");
    el.textContent = s;
    return el;
  }
  function cancelButton() {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Cancel";
    button.addEventListener("click", () => endLink("Not linked: cancelled."));
    return button;
  }
  const clip = (s, n) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

  function move(step) {
    const n = link.candidates.length;
    link.at = step === "first" ? 0 : step === "last" ? n - 1 : (link.at + step + n) % n;
    point();
  }

  function endLink(message = "") {
    for (const cls of ["link-source", "link-candidate", "link-current"]) {
      for (const m of document.querySelectorAll(`.${cls}`)) m.classList.remove(cls);
    }
    root.classList.remove("linking");
    link = null;
    banner.hidden = true;
    banner.replaceChildren();
    if (chooser) {
      const open = chooser;
      chooser = null;
      open.close();
      open.remove();
    }
    if (message) say(message);
  }

  function pick(candidate) {
    if (candidate.fits.length === 1) return create(candidate, candidate.fits[0]);
    choose(candidate);
  }

  function create(candidate, fit) {
    const source = link.source;
    const [from, to] = fit.out ? [source, candidate.id] : [candidate.id, source];
    endLink();
    page.send(config.relationAddUrl, { from_span: from, to_span: to, type: fit.type });
    say(`Linking: ${fit.name}…`);
    textEl().focus({ preventScroll: true });
  }

  /** Which relation type, when several fit: a small dialog of numbered buttons. */
  function choose(candidate) {
    const dialog = document.createElement("dialog");
    dialog.className = "link-chooser";
    dialog.setAttribute("aria-labelledby", "link-chooser-title");
    const title = document.createElement("h2");
    title.id = "link-chooser-title";
    title.textContent = "Which relation?";
    const list = document.createElement("ol");
    candidate.fits.forEach((fit, i) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.index = String(i);
      const other = clip(quoteOf(candidate.id), 40);
      const mine = clip(quoteOf(link.source), 40);
      button.append(strong(String(i + 1)), text(fit.out ? ` ${fit.name} → ${other}` : ` ${other}: ${fit.name} → ${mine}`));
      button.addEventListener("click", () => create(candidate, fit));
      li.append(button);
      list.append(li);
    });
    const hint = document.createElement("p");
    hint.className = "muted";
    hint.textContent = "A digit or ↑ ↓ and Enter; Esc cancels.";
    dialog.append(title, list, hint);
    root.append(dialog);
    chooser = dialog;
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      endLink("Not linked: cancelled.");
    });
    dialog.showModal();
    dialog.querySelector("button").focus();
  }

  function chooserKey(event) {
    const buttons = [...chooser.querySelectorAll("button[data-index]")];
    const at = buttons.indexOf(document.activeElement);
    const key = event.key;
    if (/^[1-9]$/.test(key) && buttons[Number(key) - 1]) buttons[Number(key) - 1].click();
    else if (key === "ArrowDown" || key === "ArrowRight") buttons[(at + 1) % buttons.length].focus();
    else if (key === "ArrowUp" || key === "ArrowLeft") buttons[(at - 1 + buttons.length) % buttons.length].focus();
    else if (key === "Enter" && at !== -1) buttons[at].click();
    else if (key === "Escape") endLink("Not linked: cancelled.");
    else if (key === "Tab") return;
    event.preventDefault();
    event.stopPropagation();
  }

  function linkKey(event) {
    const key = event.key;
    if (key === "Tab" || key === "Shift") return;
    event.preventDefault();
    event.stopPropagation();
    if (key === "ArrowRight" || key === "ArrowDown") move(1);
    else if (key === "ArrowLeft" || key === "ArrowUp") move(-1);
    else if (key === "Home") move("first");
    else if (key === "End") move("last");
    else if (key === "Enter") pick(link.candidates[link.at]);
    else if (key === "Escape") endLink("Not linked: cancelled.");
  }

  function isTextField(el) {
    if (!el || !el.tagName) return false;
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
    return el.tagName === "INPUT" && !["checkbox", "radio", "button", "submit", "reset"].includes(el.type);
  }

  // Keys first reach this listener (capture), so that link mode, the chooser and the
  // attributes form keep keys the page would otherwise take (a digit relabels a span).
  window.addEventListener(
    "keydown",
    (event) => {
      if (event.isComposing) return;
      if (chooser) return chooserKey(event);
      if (link) return linkKey(event);
      const form = event.target.closest && event.target.closest(".attributes-form");
      if (form) {
        if (event.key === "Enter" && !(event.target.tagName === "BUTTON")) {
          event.preventDefault();
          form.requestSubmit();
        } else if (event.key === "Escape") {
          event.preventDefault();
          backToText();
        }
        event.stopPropagation();
        return;
      }
      if (event.ctrlKey || event.metaKey || event.altKey || isTextField(event.target)) return;
      const key = event.key.toLowerCase();
      if (key === LINK_KEY && !labelKeys.has(LINK_KEY) && page.selectedSpan()) {
        event.preventDefault();
        startLink();
      } else if (key === ATTRIBUTES_KEY && !labelKeys.has(ATTRIBUTES_KEY) && page.selectedSpan()) {
        event.preventDefault();
        goToAttributes();
      }
    },
    { capture: true },
  );

  // Clicks: in link mode a click on a span picks it; the ends of relations in the lists
  // select their span; "Link to another span…" starts link mode.
  document.addEventListener(
    "click",
    (event) => {
      if (link) {
        const mark = event.target.closest("#article-text mark[data-span]");
        if (!mark) return;
        event.preventDefault();
        event.stopPropagation();
        for (let m = mark; m && m.tagName === "MARK"; m = m.parentElement) {
          const found = link.candidates.find((c) => c.id === m.dataset.span);
          if (found) return pick(found);
        }
        if (mark.dataset.span !== link.source) say("That span cannot be linked to this one.");
        return;
      }
      const end = event.target.closest("a.link-end[data-span-target]");
      if (end && root.contains(end)) {
        event.preventDefault();
        event.stopPropagation();
        page.selectSpan(end.dataset.spanTarget, { scrollText: true });
        return;
      }
      if (event.target.closest(".link-start")) {
        event.preventDefault();
        startLink();
      }
    },
    { capture: true },
  );

  root.addEventListener("labelling:selected", (event) => {
    const id = event.detail.span;
    if (link && id !== link.source) endLink();
    markLinked(id);
    showPanel(id);
  });

  root.addEventListener("labelling:updated", () => {
    if (link) endLink();
    const id = page.selectedSpan();
    markLinked(id);
    showPanel(id, { now: true });
  });

  const first = page.selectedSpan();
  if (first) {
    markLinked(first);
    showPanel(first, { now: true });
  }
}
