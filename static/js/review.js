// Adjudication page: keys on the candidate and gold tables, marks that lead to their rows,
// a gold span from a text selection, errors shown in place, focus kept across htmx swaps.
// Everything else works without this file: the page is a plain form.
import { selectionOffsets } from "./offsets.js";

const ROW = "tr[data-row]";

function workspace() {
  return document.getElementById("workspace");
}

function panes() {
  return [...document.querySelectorAll("#workspace [data-text-pane]")];
}

function isTyping(target) {
  return Boolean(target.closest("input, textarea, select, [contenteditable]"));
}

// --- Rows: focus, keys, and the marks they stand for ---------------------------------

function rowsOf(table) {
  return [...table.querySelectorAll(ROW)];
}

function markKey(row) {
  return row.id.startsWith("gold-") ? `g${row.id.slice(5)}` : row.id;
}

function showMarks(row) {
  for (const old of document.querySelectorAll("#workspace mark.flash")) old.classList.remove("flash");
  if (!row) return;
  const marks = document.querySelectorAll(`#workspace mark[data-span="${CSS.escape(markKey(row))}"]`);
  for (const mark of marks) mark.classList.add("flash");
  for (const pane of panes()) {
    const first = [...marks].find((mark) => pane.contains(mark));
    if (first) pane.scrollTop = Math.max(0, first.offsetTop - pane.clientHeight / 3);
  }
}

function move(row, step) {
  const rows = rowsOf(row.closest("table"));
  const next = rows[rows.indexOf(row) + step];
  if (next) next.focus();
}

// Whose values and relations an accepted span takes: the majority, then each editor.
function nextFactsSource() {
  const select = document.querySelector("#workspace [data-facts-from]");
  if (!select) return false;
  select.selectedIndex = (select.selectedIndex + 1) % select.options.length;
  const box = document.getElementById("messages");
  if (box) {
    const p = document.createElement("p");
    p.className = "message message-success";
    p.setAttribute("role", "status");
    p.textContent = `Accepted spans take their values and relations from ${select.options[select.selectedIndex].text}.`;
    box.replaceChildren(p);
  }
  return true;
}

function press(row, selector) {
  const button = row.querySelector(`${selector}:not(:disabled)`);
  if (!button) return false;
  button.click();
  return true;
}

document.addEventListener("keydown", (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  const target = event.target;
  if (!(target instanceof Element) || isTyping(target)) return;
  if (target.matches(ROW)) {
    const key = event.key;
    let handled = false;
    if (key === "Enter" || key === "a") handled = press(target, "button[data-accept]");
    else if (key === "x" || key === "Delete") handled = press(target, "button[data-remove]");
    else if (key === "r") handled = press(target, "button[data-remove-relation]");
    else if (key === "f") handled = nextFactsSource();
    else if (key === "j" || key === "ArrowDown") { move(target, 1); handled = true; }
    else if (key === "k" || key === "ArrowUp") { move(target, -1); handled = true; }
    if (handled) { event.preventDefault(); return; }
  } else if ((event.key === "j" || event.key === "k") && !target.closest("button, a")) {
    const first = document.querySelector(`#workspace .candidate-table ${ROW}`);
    if (first) { event.preventDefault(); first.focus(); return; }
  }
  const button = document.querySelector(
    `#workspace [data-add-bar] button[data-hotkey="${CSS.escape(event.key)}" i]`,
  );
  if (button && selectionOffsets(panes())) {
    event.preventDefault();
    addSpan(button.dataset.label);
  }
});

document.addEventListener("focusin", (event) => {
  const row = event.target instanceof Element ? event.target.closest(`#workspace ${ROW}`) : null;
  showMarks(row);
});

document.addEventListener("click", (event) => {
  const target = event.target;
  if (!(target instanceof Element)) return;
  const add = target.closest("#workspace [data-add-bar] button[data-label]");
  if (add) {
    addSpan(add.dataset.label);
    return;
  }
  const mark = target.closest("#workspace mark.span[data-span]");
  if (!mark || !window.getSelection().isCollapsed) return;
  const key = mark.dataset.span;
  const inGold = mark.closest("[data-text-pane]")?.dataset.textPane === "gold";
  const row = document.getElementById(inGold ? `gold-${key.slice(1)}` : key);
  if (row) {
    row.scrollIntoView({ block: "nearest" });
    row.focus({ preventScroll: true });
  }
});

// Keep the selection when a label button is pressed with the mouse.
document.addEventListener("mousedown", (event) => {
  if (event.target instanceof Element && event.target.closest("[data-add-bar] button")) {
    event.preventDefault();
  }
});

// --- A new gold span from a selection ---------------------------------------------------

function say(text) {
  const box = document.getElementById("messages");
  if (!box) return;
  const p = document.createElement("p");
  p.className = "message message-error";
  p.setAttribute("role", "alert");
  p.textContent = text;
  box.replaceChildren(p);
}

function addSpan(label) {
  const found = selectionOffsets(panes());
  const form = document.getElementById("review-form");
  if (!found || !form) {
    say("Select some text in the article first, then choose a label.");
    return;
  }
  window.getSelection().removeAllRanges();
  window.htmx.ajax("POST", workspace().dataset.addUrl, {
    source: form,
    target: "#workspace",
    swap: "outerHTML",
    values: { start: found.start, end: found.end, quote: found.quote, label },
  });
}

function updateAddBar() {
  const can = Boolean(selectionOffsets(panes()));
  for (const button of document.querySelectorAll("#workspace [data-add-bar] button")) {
    button.disabled = !can;
  }
}

document.addEventListener("selectionchange", updateAddBar);

// --- htmx: errors in place, focus where it was ------------------------------------------

// A refused write (400) or a stale one (409) answers with the current workspace and the
// reason at its top: show it instead of only an error line.
document.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  if ((status === 400 || status === 409) && event.detail.target?.id === "workspace") {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

let remembered = null;

document.addEventListener("htmx:beforeRequest", () => {
  const row = document.activeElement?.closest?.(`#workspace ${ROW}`);
  remembered = row
    ? { id: row.id, index: rowsOf(row.closest("table")).indexOf(row), table: row.closest("table").className }
    : null;
});

function restoreFocus() {
  if (!remembered) return;
  const table = document.querySelector(`#workspace table.${CSS.escape(remembered.table)}`);
  const { id, index } = remembered;
  remembered = null;
  // Not if the reviewer has moved on meanwhile (focused something, started a selection).
  const busy = document.activeElement !== document.body || !window.getSelection().isCollapsed;
  if (!table || busy) return;
  const rows = rowsOf(table);
  const open = (row) => row.querySelector("button[data-accept]:not(:disabled)");
  let target;
  if (table.classList.contains("candidate-table")) {
    target = rows.find((row) => row.id === id && open(row))
      || rows.slice(index + 1).find(open)
      || rows.find((row) => row.id === id);
  } else {
    target = rows[Math.min(index, rows.length - 1)];
  }
  target?.focus();
}

function init() {
  for (const bar of document.querySelectorAll("#workspace [data-add-bar]")) bar.hidden = false;
  updateAddBar();
}

document.addEventListener("htmx:afterSwap", () => {
  init();
  restoreFocus();
});

init();
