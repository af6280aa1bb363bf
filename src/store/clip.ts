// Error text for the trail: kept whole up to a generous bound, and when longer
// cut in the middle with a visible marker. The head keeps the message; the tail
// keeps the end of stderr, which is usually the explanation, so it gets more room.

/** Bytes of UTF-8 an error text may take in the trail. */
export const errorTextLimit = 64 * 1024;

/** Below this a bound leaves no useful room beside the marker. */
const smallestLimit = 64;

function marker(cut: number): string {
  return `\n[… ${cut} bytes cut …]\n`;
}

function isContinuationByte(b: number | undefined): boolean {
  return b !== undefined && (b & 0xc0) === 0x80;
}

/**
 * `text` unchanged when its UTF-8 form fits in `maxBytes`; otherwise its head
 * (a quarter of the room) and tail (the rest), joined by a marker that says how
 * many bytes were cut. The result never exceeds `maxBytes` and never splits a
 * character.
 */
export function clipText(text: string, maxBytes: number = errorTextLimit): string {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < smallestLimit) {
    throw new RangeError(`clipText: maxBytes must be an integer of at least ${smallestLimit}, got ${maxBytes}`);
  }
  const total = Buffer.byteLength(text, 'utf8');
  if (total <= maxBytes) return text;
  const bytes = Buffer.from(text, 'utf8');
  // The cut is smaller than the total, so a marker naming the total is at least as long as the real one.
  const keep = maxBytes - Buffer.byteLength(marker(total), 'utf8');
  let headEnd = Math.floor(keep / 4);
  let tailStart = total - (keep - headEnd);
  while (headEnd > 0 && isContinuationByte(bytes[headEnd])) headEnd--;
  while (tailStart < total && isContinuationByte(bytes[tailStart])) tailStart++;
  return bytes.toString('utf8', 0, headEnd) + marker(tailStart - headEnd) + bytes.toString('utf8', tailStart);
}
