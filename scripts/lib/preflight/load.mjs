// What preflight needs from outside itself: the Worker's own checking code, bundled
// from TypeScript on the fly, and wrangler's configuration as wrangler resolves it.
import { basename } from 'node:path';
import { importBundled } from '../load-src.mjs';

/**
 * scripts/lib/preflight/check.ts with what it imports from src/ (scripts/lib/load-src.mjs).
 * @returns {Promise<typeof import('./check')>}
 */
export function loadCheck() {
  return importBundled('scripts/lib/preflight/check.ts');
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
    ratelimits: config.ratelimits ?? [],
    routes: config.routes ?? [],
    route: config.route,
  };
}
