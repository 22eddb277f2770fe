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
