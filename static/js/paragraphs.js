// Redrawing one paragraph of the highlighted article text in the browser, exactly as
// annotate/highlight.py draws it on the server: the page paints a new span at once this
// way, and takes it back the same way. The text container holds one <span class="para"> per
// paragraph (data-u16: its UTF-16 start in the text); a paragraph holds text and <mark>
// elements only, nested longer-outside, a crossing span split into fragments.

const escapeText = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const escapeAttr = (s) => escapeText(s).replace(/"/g, "&quot;").replace(/'/g, "&#x27;");

/** The paragraph elements of `container` that [start, end) (UTF-16 offsets) touches. */
export function paragraphsBetween(container, start, end) {
  const paras = container.children;
  let lo = 0;
  let hi = paras.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (Number(paras[mid].dataset.u16) <= start) lo = mid;
    else hi = mid - 1;
  }
  const found = [];
  for (let i = lo; i < paras.length; i++) {
    if (found.length && Number(paras[i].dataset.u16) >= end) break;
    found.push(paras[i]);
  }
  return found;
}

/** The paragraph element that holds `node`, or null. */
export function paragraphOf(node) {
  const el = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
  return el ? el.closest(".para") : null;
}

/** Each span drawn in `para`, as {key, start, end, continued, attrs}: its extent in the
 *  paragraph (UTF-16, over all its fragments), whether it goes on from the paragraph before,
 *  and the attributes of its first fragment. `skip(mark)` leaves marks out. */
export function marksIn(para, skip = () => false) {
  const found = new Map();
  const walker = document.createTreeWalker(para, NodeFilter.SHOW_TEXT);
  let pos = 0;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const length = node.data.length;
    for (let el = node.parentElement; el && el !== para; el = el.parentElement) {
      if (el.tagName !== "MARK" || skip(el)) continue;
      const key = el.dataset.span || el.dataset.pending;
      const seen = found.get(key);
      if (seen) {
        seen.start = Math.min(seen.start, pos);
        seen.end = Math.max(seen.end, pos + length);
      } else {
        found.set(key, {
          key,
          start: pos,
          end: pos + length,
          continued: el.classList.contains("cont"),
          attrs: {
            label: el.dataset.label,
            classes: [...el.classList].filter((c) => !DRAWN.has(c) && !c.startsWith("lbl-")),
            spanStart: el.dataset.start,
            spanEnd: el.dataset.end,
            span: el.dataset.span || "",
            pending: el.dataset.pending || "",
            title: el.title,
          },
        });
      }
    }
    pos += length;
  }
  return [...found.values()];
}

// Classes the drawing itself gives (or the page's state), as opposed to a span's own.
const DRAWN = new Set(["span", "cont", "twin", "pending", "selected", "flash"]);

function openTag(mark, continued, twin) {
  const a = mark.attrs;
  const classes = ["span", `lbl-${a.label}`, ...(a.classes || [])];
  if (a.pending) classes.push("pending");
  if (continued) classes.push("cont");
  // Exactly over the mark around it: the stylesheet shows both colours (as the server marks it).
  if (twin) classes.push("twin");
  let tag = `<mark class="${escapeAttr(classes.join(" "))}" data-label="${escapeAttr(a.label)}"`;
  if (a.spanStart !== undefined && a.spanStart !== "") tag += ` data-start="${escapeAttr(String(a.spanStart))}"`;
  if (a.spanEnd !== undefined && a.spanEnd !== "") tag += ` data-end="${escapeAttr(String(a.spanEnd))}"`;
  if (a.span) tag += ` data-span="${escapeAttr(a.span)}"`;
  if (a.pending) tag += ` data-pending="${escapeAttr(a.pending)}"`;
  return `${tag} title="${escapeAttr(a.title || a.label)}">`;
}

const order = (a, b) =>
  a.start - b.start || b.end - a.end || cmp(a.attrs.label, b.attrs.label) || cmp(a.key, b.key);
const cmp = (x, y) => (x < y ? -1 : x > y ? 1 : 0);

/** The inner HTML of a paragraph whose text is `text`, with `marks` (from marksIn, or new
 *  ones of the same shape) — the same algorithm as annotate.highlight._render. */
export function renderParagraph(text, marks) {
  const ordered = marks.filter((m) => 0 <= m.start && m.start < m.end && m.end <= text.length);
  ordered.sort(order);
  const starts = new Map();
  const ends = new Map();
  for (const m of ordered) {
    if (!starts.has(m.start)) starts.set(m.start, []);
    starts.get(m.start).push(m);
    if (!ends.has(m.end)) ends.set(m.end, new Set());
    ends.get(m.end).add(m);
  }
  const boundaries = [...new Set([0, text.length, ...starts.keys(), ...ends.keys()])].sort(
    (a, b) => a - b,
  );
  const out = [];
  let stack = [];
  let previous = 0;
  for (const pos of boundaries) {
    if (pos > previous) out.push(escapeText(text.slice(previous, pos)));
    previous = pos;
    const ending = ends.get(pos);
    let reopen = [];
    if (ending) {
      const lowest = stack.findIndex((m) => ending.has(m));
      if (lowest !== -1) {
        out.push("</mark>".repeat(stack.length - lowest));
        reopen = stack.slice(lowest).filter((m) => !ending.has(m));
        stack = stack.slice(0, lowest);
      }
    }
    const opening = [
      ...reopen.map((m) => [m, true]),
      ...(starts.get(pos) || []).map((m) => [m, m.continued]),
    ];
    opening.sort(
      ([a], [b]) => b.end - a.end || a.start - b.start || cmp(a.attrs.label, b.attrs.label) || cmp(a.key, b.key),
    );
    for (const [m, continued] of opening) {
      const around = stack[stack.length - 1];
      const twin = !!around && around.start === m.start && around.end === m.end;
      out.push(openTag(m, continued, twin));
      stack.push(m);
    }
  }
  out.push("</mark>".repeat(stack.length));
  return out.join("");
}
