// What preflight needs from outside itself: the Worker's own checking code, bundled
// from TypeScript on the fly, and wrangler's configuration as wrangler resolves it.
import { build } from 'esbuild';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * scripts/lib/preflight/check.ts with what it imports from src/, bundled into one ES
 * module and imported from memory (src/ uses extensionless TypeScript imports, which
 * Node cannot load as they are).
 * @returns {Promise<typeof import('./check')>}
 */
export async function loadCheck() {
  const result = await build({
    entryPoints: [join(root, 'scripts/lib/preflight/check.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    logLevel: 'error',
  });
  const code = result.outputFiles[0].text;
  return import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
}

/**
 * wrangler.toml (or .json/.jsonc) read and resolved by wrangler itself, for one
 * environment or the top level: the bindings and vars a deploy would get.
 * @param {string} path
 * @param {string | undefined} env `--env` as wrangler takes it
 * @returns {Promise<import('./check').DeploySettings>}
 */
export async function readDeploySettings(path, env) {
  const { unstable_readConfig } = await import('wrangler');
  const config = unstable_readConfig({ config: path, env }, { hideWarnings: true });
  return {
    file: env === undefined ? basename(path) : `${basename(path)} [env.${env}]`,
    vars: config.vars,
    kv_namespaces: config.kv_namespaces,
    vpc_services: config.vpc_services ?? [],
    vpc_networks: config.vpc_networks ?? [],
    services: config.services ?? [],
    routes: config.routes ?? [],
    route: config.route,
  };
}
