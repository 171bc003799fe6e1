// Values larger than one row of Durable Object storage. On Cloudflare a SQLite-backed
// Durable Object keeps at most 2 MB in one string, BLOB or row, through SQL and the
// key-value API alike (workerd on its own allows more, so nothing shows it locally). A
// health map is written whole and grows with the origins checked: about 2.8 KB per
// origin checked from all 13 regions, so 2 MB near 720 origins. Past that the write
// would throw and health would stop being recorded. A value longer than one part is
// kept as parts: the key holds a marker with the count, `key#1` … `key#n` the text.
// Written in one synchronous turn, the head and its parts commit together.

/** Characters per part: at most 3 UTF-8 bytes each (a surrogate pair is 4 bytes for 2), so a part stays under 1.5 MiB. */
export const PART_CHARS = 512 * 1024;

/** The head of a value kept as parts: no JSON text starts with NUL. */
const PARTS_MARK = '\u0000parts:';

/** Where values are kept: a table's rows, or the key-value API. */
export interface Cells {
  get(key: string): string | undefined;
  put(key: string, text: string): void;
  delete(key: string): void;
}

const partKey = (key: string, n: number): string => `${key}#${n}`;

/** How many parts the head of a value says it has; 0 for a value kept whole. */
function partCount(head: string | undefined): number {
  return head?.startsWith(PARTS_MARK) ? Number(head.slice(PARTS_MARK.length)) || 0 : 0;
}

/** `text` cut into parts of at most `size` characters, never between the two halves of a surrogate pair. */
export function splitParts(text: string, size = PART_CHARS): string[] {
  const parts: string[] = [];
  let at = 0;
  while (at < text.length) {
    let end = Math.min(at + size, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    parts.push(text.slice(at, end));
    at = end;
  }
  return parts;
}

/**
 * The text kept under `key` (whole or as parts); undefined when there is none. A
 * missing part reads as a NUL, which JSON allows nowhere, so the caller's parse fails
 * rather than reading a value short by a part.
 */
export function readLarge(cells: Cells, key: string): string | undefined {
  const head = cells.get(key);
  const count = partCount(head);
  if (count === 0) return head;
  let text = '';
  for (let n = 1; n <= count; n++) text += cells.get(partKey(key, n)) ?? '\u0000';
  return text;
}

/** Keeps `text` under `key`, as parts when it is longer than one; the parts of a longer value before it are removed. */
export function writeLarge(cells: Cells, key: string, text: string, size = PART_CHARS): void {
  const before = partCount(cells.get(key));
  let count = 0;
  if (text.length <= size) cells.put(key, text);
  else {
    const parts = splitParts(text, size);
    count = parts.length;
    cells.put(key, `${PARTS_MARK}${count}`);
    parts.forEach((part, i) => cells.put(partKey(key, i + 1), part));
  }
  for (let n = count + 1; n <= before; n++) cells.delete(partKey(key, n));
}

/** Removes `key` and its parts. */
export function removeLarge(cells: Cells, key: string): void {
  const count = partCount(cells.get(key));
  cells.delete(key);
  for (let n = 1; n <= count; n++) cells.delete(partKey(key, n));
}
