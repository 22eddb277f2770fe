// Text offsets of a browser selection, for pages that show an article with {% highlighted %}.
// The container's text nodes, read in order, are exactly the article text, so offsets are
// counted over them; marks and their ::before/::after decorations add no text. Offsets are
// UTF-16 code units, as the DOM counts: the server converts them (annotate.offsets.from_utf16).

/** Offsets {start, end, quote} of `range` within `container`, clipped to it; null if the
 *  range does not touch the container's text or selects nothing. */
export function rangeOffsets(container, range) {
  if (!range || !range.intersectsNode(container)) return null;
  const whole = document.createRange();
  whole.selectNodeContents(container);
  const clipped = range.cloneRange();
  if (clipped.compareBoundaryPoints(Range.START_TO_START, whole) < 0) {
    clipped.setStart(whole.startContainer, whole.startOffset);
  }
  if (clipped.compareBoundaryPoints(Range.END_TO_END, whole) > 0) {
    clipped.setEnd(whole.endContainer, whole.endOffset);
  }
  const quote = clipped.toString();
  if (!quote) return null;
  const before = document.createRange();
  before.selectNodeContents(container);
  before.setEnd(clipped.startContainer, clipped.startOffset);
  const start = before.toString().length;
  return { start, end: start + quote.length, quote };
}

/** The current selection's offsets in the first of `containers` it touches, with that
 *  container; null when there is no selection inside any of them. */
export function selectionOffsets(containers) {
  const selection = window.getSelection();
  if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
  const range = selection.getRangeAt(0);
  for (const container of containers) {
    const found = rangeOffsets(container, range);
    if (found) return { ...found, container };
  }
  return null;
}

// Word snapping, as annotate.offsets.snap_to_words does it on the server (which stays the
// authority: the page uses this to paint a new span at once). Offsets are UTF-16 code units.

const WORD_CHAR = /^[\p{L}\p{M}\p{N}]$/u;
const EDGE_TRIM = /^[\p{Z}\p{P}\p{Cc}]$/u;
const FORMAT_CHAR = /^\p{Cf}$/u;
const MARK_CHAR = /^\p{M}$/u;
const ZWJ = "\u200d";
const WORD_JOINERS = new Set(["-", "\u2010", "\u2011", "'", "\u2019"]);
const POSSESSIVE_ENDINGS = new Set(["'s", "\u2019s", "'S", "\u2019S"]);
const NO_SPACE_SCRIPTS = [
  [0x0e00, 0x0eff], [0x0f00, 0x0fff], [0x1000, 0x109f], [0x1780, 0x17ff], [0x2e80, 0x2fdf],
  [0x3005, 0x3007], [0x3040, 0x30ff], [0x31f0, 0x31ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff],
  [0xf900, 0xfaff], [0xff66, 0xff9f], [0x20000, 0x3ffff],
];

/** The character (a whole code point) that starts at UTF-16 offset `i`. */
function charAt(text, i) {
  const cp = text.codePointAt(i);
  return cp === undefined ? "" : String.fromCodePoint(cp);
}

/** The character (a whole code point) that ends at UTF-16 offset `i`. */
function charBefore(text, i) {
  if (i <= 0) return "";
  const low = text.charCodeAt(i - 1);
  if (i >= 2 && low >= 0xdc00 && low <= 0xdfff) {
    const high = text.charCodeAt(i - 2);
    if (high >= 0xd800 && high <= 0xdbff) return text.slice(i - 2, i);
  }
  return text[i - 1];
}

const inNoSpaceScript = (ch) => {
  const cp = ch.codePointAt(0);
  return NO_SPACE_SCRIPTS.some(([lo, hi]) => lo <= cp && cp <= hi);
};
const isWordChar = (ch) => WORD_CHAR.test(ch);
const joinsWords = (left, right) =>
  isWordChar(left) && isWordChar(right) && !(inNoSpaceScript(left) || inNoSpaceScript(right));
const isEdgeTrim = (ch) => EDGE_TRIM.test(ch) || (FORMAT_CHAR.test(ch) && ch !== ZWJ);
const isRegionalIndicator = (ch) => {
  const cp = ch.codePointAt(0);
  return cp >= 0x1f1e6 && cp <= 0x1f1ff;
};

function extendsPrevious(ch) {
  const cp = ch.codePointAt(0);
  return (
    MARK_CHAR.test(ch) ||
    ch === ZWJ ||
    (cp >= 0xfe00 && cp <= 0xfe0f) ||
    (cp >= 0xe0100 && cp <= 0xe01ef) ||
    (cp >= 0x1f3fb && cp <= 0x1f3ff) ||
    (cp >= 0xe0020 && cp <= 0xe007f)
  );
}

function isClusterBoundary(text, i) {
  if (i <= 0 || i >= text.length) return true;
  const code = text.charCodeAt(i);
  if (code >= 0xdc00 && code <= 0xdfff) return false; // inside a surrogate pair
  const before = charBefore(text, i);
  const after = charAt(text, i);
  if (extendsPrevious(after) || before === ZWJ) return false;
  if (isRegionalIndicator(before) && isRegionalIndicator(after)) {
    let run = 0;
    for (let j = i; j > 0 && isRegionalIndicator(charBefore(text, j)); j -= 2) run += 1;
    return run % 2 === 0;
  }
  return before !== "\r" || after !== "\n";
}

function joinedAcross(text, i) {
  const at = charAt(text, i);
  if (i > 0 && WORD_JOINERS.has(at)) {
    const next = charAt(text, i + 1);
    if (next) return joinsWords(charBefore(text, i), next);
  }
  const before = charBefore(text, i);
  if (i > 1 && i < text.length && WORD_JOINERS.has(before)) {
    return joinsWords(charBefore(text, i - 1), at);
  }
  return false;
}

function inside(text, i) {
  return (
    joinsWords(charBefore(text, i), charAt(text, i)) ||
    joinedAcross(text, i) ||
    !isClusterBoundary(text, i)
  );
}

/** [start, end] of the selection text[start:end] snapped to whole words (UTF-16 offsets):
 *  widened to word boundaries (a hyphen or apostrophe between letters is inside a word), a
 *  possessive 's at the end dropped, space and punctuation at the edges trimmed. */
export function snapToWords(text, start, end) {
  let s = start;
  let e = end;
  while (s < e && isEdgeTrim(charAt(text, s))) s += charAt(text, s).length;
  while (e > s && isEdgeTrim(charBefore(text, e))) e -= charBefore(text, e).length;
  if (s === e) return [start, end];
  while (s > 0 && inside(text, s)) s -= charBefore(text, s).length;
  while (e < text.length && inside(text, e)) e += charAt(text, e).length;
  if (e - s > 2 && POSSESSIVE_ENDINGS.has(text.slice(e - 2, e)) && isWordChar(charBefore(text, e - 2))) {
    e -= 2;
  }
  return [s, e];
}

/** The code-point offset of UTF-16 offset `offset` in `text`. */
export function codePoints(text, offset) {
  let astral = 0;
  for (let i = 0; i < offset - 1; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      astral += 1;
      i += 1;
    }
  }
  return offset - astral;
}

/** Why text[start:end] (UTF-16 offsets) needs a confirmation, as annotate.span_checks says:
 *  longer than `longChars` code points (0: no limit), or across a paragraph break. */
export function spanConcerns(text, start, end, longChars) {
  const covered = text.slice(start, end);
  const length = [...covered].length;
  const reasons = [];
  if (longChars && length > longChars) {
    reasons.push(
      `is ${length.toLocaleString("en")} characters long (the project asks to confirm spans over ${longChars.toLocaleString("en")})`,
    );
  }
  if (covered.includes("\n")) {
    const paragraphs = covered.split("\n").filter((p) => p.trim()).length;
    reasons.push(paragraphs > 1 ? `spans ${paragraphs} paragraphs` : "crosses a paragraph break");
  }
  return reasons;
}
