import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

// The shape of the house (README, Layout): files small enough to read in one sitting,
// and a Layout section that names what is there. The layering between src/'s folders
// is checked by `npm run check:layers` (dependency-cruiser).

const ROOT = join(import.meta.dirname, '..', '..');
const SRC = join(ROOT, 'src');
/** Data tables, not code: a row per PoP or city. */
const DATA_TABLES = new Set(['src/geo/pops.ts', 'src/geo/cities.ts']);
const MAX_LINES = 400;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

const sources = filesUnder(SRC)
  .filter((path) => /\.(ts|tsx|mjs)$/.test(path) && !path.endsWith('.d.ts') && !path.endsWith('client-bundle.js'))
  .map((path) => relative(ROOT, path).replaceAll('\\', '/'));

describe('the house', () => {
  it(`has no source file in src/ over ${MAX_LINES} lines (data tables excepted)`, () => {
    const long = sources
      .filter((path) => !DATA_TABLES.has(path))
      .map((path) => ({ path, lines: readFileSync(join(ROOT, path), 'utf8').split('\n').length - 1 }))
      .filter(({ lines }) => lines > MAX_LINES);
    expect(long).toEqual([]);
  });

  it("README's Layout names every folder and top-level file of src/, and only what exists", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Layout'));
    const block = section.slice(section.indexOf('```') + 3, section.indexOf('```', section.indexOf('```') + 3));
    const named = new Set([...block.matchAll(/^(src\/[\w./-]*)/gm)].map((m) => m[1]!));
    const present = readdirSync(SRC).map((name) => (statSync(join(SRC, name)).isDirectory() ? `src/${name}/` : `src/${name}`));
    expect([...present].filter((path) => !named.has(path) && !path.endsWith('.d.ts')).sort()).toEqual([]);
    expect([...named].filter((path) => !present.includes(path)).sort()).toEqual([]);
  });
});
