import { describe, expect, it } from 'vitest';
import { PART_CHARS, readLarge, removeLarge, splitParts, writeLarge, type Cells } from '../../src/control/large-values';

// A value longer than one row of Durable Object storage is kept as parts
// (src/control/large-values.ts): read back whole, the parts of a longer value before it
// removed, a surrogate pair never cut in two.

function memoryCells(): Cells & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return { map, get: (key) => map.get(key), put: (key, text) => void map.set(key, text), delete: (key) => void map.delete(key) };
}

describe('large values', () => {
  it('keeps a value of one part whole, under its own key', () => {
    const cells = memoryCells();
    writeLarge(cells, 'health', '{"p":{}}', 16);
    expect([...cells.map]).toEqual([['health', '{"p":{}}']]);
    expect(readLarge(cells, 'health')).toBe('{"p":{}}');
  });

  it('keeps a longer value as parts of at most the part size, and reads it back whole', () => {
    const cells = memoryCells();
    const text = JSON.stringify({ origins: Array.from({ length: 40 }, (_, i) => `origin-${i}`) });
    writeLarge(cells, 'health', text, 64);
    expect(cells.map.size).toBeGreaterThan(2);
    for (const [key, value] of cells.map) if (key !== 'health') expect(value.length).toBeLessThanOrEqual(64);
    expect(readLarge(cells, 'health')).toBe(text);
  });

  it('removes the parts a longer value left when a shorter one replaces it, and all of them with the key', () => {
    const cells = memoryCells();
    writeLarge(cells, 'health', 'x'.repeat(100), 10);
    expect(cells.map.size).toBe(11);
    writeLarge(cells, 'health', 'y'.repeat(35), 10);
    expect([...cells.map.keys()].sort()).toEqual(['health', 'health#1', 'health#2', 'health#3', 'health#4']);
    expect(readLarge(cells, 'health')).toBe('y'.repeat(35));
    writeLarge(cells, 'health', 'short', 10);
    expect([...cells.map]).toEqual([['health', 'short']]);
    writeLarge(cells, 'health', 'z'.repeat(25), 10);
    writeLarge(cells, 'stats', 'w'.repeat(25), 10);
    removeLarge(cells, 'health');
    expect([...cells.map.keys()].sort()).toEqual(['stats', 'stats#1', 'stats#2', 'stats#3']);
    expect(readLarge(cells, 'health')).toBeUndefined();
  });

  it('never cuts a surrogate pair, so a part stored as UTF-8 holds no half character', () => {
    // Each emoji is two UTF-16 units; with parts of 5 units every other cut falls inside one.
    const text = 'a' + '😀'.repeat(20) + 'b';
    const parts = splitParts(text, 5);
    expect(parts.join('')).toBe(text);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(5);
      expect(part).toBe(new TextDecoder().decode(new TextEncoder().encode(part)));
    }
    const cells = memoryCells();
    writeLarge(cells, 'health', text, 5);
    expect(readLarge(cells, 'health')).toBe(text);
  });

  it('leaves a gap for a missing part, so the caller finds the value damaged rather than short by a part', () => {
    const cells = memoryCells();
    const text = JSON.stringify({ a: 'x'.repeat(30), b: 'y'.repeat(30) });
    writeLarge(cells, 'health', text, 16);
    cells.delete('health#2');
    expect(() => JSON.parse(readLarge(cells, 'health')!)).toThrow();
  });

  it('sizes a part so that even at 3 UTF-8 bytes a unit it stays under the 2 MB row limit', () => {
    expect(PART_CHARS * 3).toBeLessThan(2_000_000);
  });
});
