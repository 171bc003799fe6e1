// Bundles the dashboard's client (src/admin/dashboard/client/, TypeScript for the
// browser) into one script and writes it as src/admin/dashboard/client-bundle.js, a
// module whose default export is that script's text: what the Worker serves as
// /__lb/dashboard.js. The file is not in git; it is written before the Worker is
// bundled, wherever that happens:
//   - wrangler runs this file first ([build] in wrangler.toml): wrangler dev, deploy
//     and its dry runs (npm run build, the benchmark, the http tests), and the demo and
//     the browser tests, which start wrangler's dev server;
//   - vitest.config.ts calls buildDashboard() before any test project starts.
// The file is rewritten only when its text changes, and by a rename, so a bundler
// reading it at the same moment sees the old text or the new, never half of one.
import { build } from 'esbuild';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const ENTRY = join(root, 'src/admin/dashboard/client/main.ts');
export const DASHBOARD_BUNDLE = join(root, 'src/admin/dashboard/client-bundle.js');

/** The client as one browser script: an IIFE, no imports left, nothing fetched at run time. */
export async function bundleDashboard() {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    // Short, but with its own names kept, so a stack trace in the console still reads.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    logLevel: 'error',
  });
  return result.outputFiles[0].text;
}

/** Writes src/admin/dashboard/client-bundle.js if its text differs; returns whether it did. */
export async function buildDashboard() {
  const script = await bundleDashboard();
  const module = `// The dashboard's client (client/main.ts) bundled by scripts/build-dashboard.mjs; not in git.\nexport default ${JSON.stringify(script)};\n`;
  let current = null;
  try {
    current = readFileSync(DASHBOARD_BUNDLE, 'utf8');
  } catch {
    // Not built yet.
  }
  if (current === module) return false;
  const temporary = `${DASHBOARD_BUNDLE}.${process.pid}.tmp`;
  writeFileSync(temporary, module);
  renameSync(temporary, DASHBOARD_BUNDLE);
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildDashboard();
}
