// How the scripts run the Worker's own code. src/ is TypeScript with extensionless
// imports, which Node cannot resolve as they are: a module that imports from src/ is
// bundled with everything it imports (esbuild) and the bundle imported from memory.
// A file of src/ without relative imports (src/geo/cities.ts) Node imports as it is.
import { build } from 'esbuild';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * `entry` with what it imports, bundled into one ES module's source.
 * @param {string} entry a path from the repository's root, or an absolute one
 * @param {{ platform?: 'node' | 'neutral' }} [options] `neutral` for a Worker: no Node built-ins
 * @returns {Promise<string>}
 */
export async function bundleSource(entry, { platform = 'node' } = {}) {
  const result = await build({
    entryPoints: [isAbsolute(entry) ? entry : join(ROOT, entry)],
    bundle: true,
    write: false,
    format: 'esm',
    platform,
    target: platform === 'node' ? 'node22' : 'es2022',
    mainFields: platform === 'node' ? undefined : ['module', 'main'],
    logLevel: 'error',
  });
  return result.outputFiles[0].text;
}

/** @type {Map<string, Promise<unknown>>} */
const loaded = new Map();

/**
 * The module at `entry`, bundled and imported from memory; once per process, so every
 * caller shares one instance (its classes, its state).
 * @param {string} entry a path from the repository's root, or an absolute one
 * @returns {Promise<any>} the module's namespace: callers say its type, `typeof import(entry)`
 */
export function importBundled(entry) {
  let module = loaded.get(entry);
  if (module === undefined) {
    module = bundleSource(entry).then((code) => import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`));
    loaded.set(entry, module);
  }
  return module;
}
