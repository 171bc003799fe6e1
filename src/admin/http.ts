import { OpenAPIHono, z } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { edgeFindings, type ConfigWarning, type EdgeFacts, type EdgeFinding } from '../config/edge-warnings';
import type { Config } from '../config/schema';
import { byteLength, compactResource, exceedsBytes, MAX_CONFIG_BYTES, MAX_FULL_CONFIG_BYTES, oversize } from '../config/compact';
import { capIssues, toIssues, validateConfig, type Issue } from '../config/validate';
import type { PutConfigResult } from '../control/control-plane';
import { bindingOf, settings, type Env } from '../env';
import { LbError } from '../errors';
import { rateLimiter } from '../proxy/rate-limit';

// What every admin route shares: body limits, the JSON requirement, validation
// errors in the one error shape, If-Match parsing and OpenAPI response helpers.

export type AdminEnv = { Bindings: Env };

export const MAX_BODY_BYTES = 1024 * 1024;

export const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new LbError(413, 'payload_too_large', `request body over ${MAX_BODY_BYTES} bytes`);
  },
});

/** A JSON body is required: without this, a non-JSON content type would skip validation. */
export const requireJson = createMiddleware(async function requireJson(c, next) {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/([\w.-]+\+)?json\s*(;|$)/i.test(type)) {
    throw new LbError(400, 'invalid_json', `expected a JSON body (Content-Type: application/json), got "${type || 'none'}"`);
  }
  await next();
});

/** The middleware of a route that takes a JSON body. */
export const jsonBody = [limitBody, requireJson];

/**
 * The most a configuration or resource body may be on the wire: what a stored
 * configuration may be as GET spells it out (every default written), so any GET can be
 * PUT back.
 */
export const MAX_CONFIG_BODY_BYTES = MAX_FULL_CONFIG_BYTES;

/**
 * A body over 1 MiB is taken only when `fits` finds it a valid document whose compact
 * form is within the limit (SPEC §7): so whatever GET returned can be PUT back, while
 * the limit still counts what a document says, not how many defaults it spells out or
 * how it is indented. Anything else over 1 MiB is 413, as for every other route.
 * `fits` answers why a document does not fit, 'invalid' for one that does not validate,
 * or undefined.
 */
function fitBody(fits: (document: unknown) => string | 'invalid' | undefined) {
  const fitting = createMiddleware(async function fitBody(c, next) {
    const text = await c.req.text();
    if (exceedsBytes(text, MAX_BODY_BYTES)) {
      const tooLarge = (why: string) => new LbError(413, 'payload_too_large', `request body over ${MAX_BODY_BYTES} bytes ${why}`);
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch {
        throw tooLarge('and not JSON');
      }
      const why = fits(document);
      if (why === 'invalid') throw tooLarge('and not valid');
      if (why !== undefined) throw new LbError(413, 'payload_too_large', why);
    }
    await next();
  });
  return [
    bodyLimit({
      maxSize: MAX_CONFIG_BODY_BYTES,
      onError: () => {
        throw new LbError(413, 'payload_too_large', `request body over ${MAX_CONFIG_BODY_BYTES} bytes`);
      },
    }),
    requireJson,
    fitting,
  ];
}

/** The middleware of PUT /config. */
export const configBody = fitBody((document) => {
  const validation = validateConfig(document);
  return validation.ok ? oversize(validation.config) : 'invalid';
});

/** The middleware of a route that takes a whole monitor, pool or load balancer. */
export function resourceBody(kind: 'monitor' | 'pool' | 'load_balancer', schema: z.ZodType) {
  return fitBody((document) => {
    const parsed = schema.safeParse(document);
    if (!parsed.success) return 'invalid';
    const bytes = byteLength(JSON.stringify(compactResource(kind, parsed.data as Record<string, unknown>)));
    return bytes > MAX_CONFIG_BYTES ? `the ${kind.replace('_', ' ')} is ${bytes} bytes as compact JSON (defaults left out); a configuration holds at most ${MAX_CONFIG_BYTES} (1 MiB)` : undefined;
  });
}

/** A sub-app whose failed validations answer 400 in the error shape; `bodyCode` names a bad body. */
export function adminRoutes(bodyCode: 'invalid_config' | 'invalid_request') {
  return new OpenAPIHono<AdminEnv>({
    defaultHook: async (result, c) => {
      const body = result.target === 'json';
      const protoIssues = body ? protoKeyIssues(await c.req.text()) : [];
      if (result.success && protoIssues.length === 0) return;
      const code = body ? bodyCode : 'invalid_request';
      const message = body
        ? bodyCode === 'invalid_config'
          ? 'the body is not a valid configuration object'
          : 'the body is not valid for this route'
        : `invalid ${result.target === 'param' ? 'path' : result.target}`;
      throw new LbError(400, code, message, { issues: capIssues([...protoIssues, ...(result.success ? [] : toIssues(result.error))]) });
    },
  });
}

/**
 * An own "__proto__" key anywhere in a JSON body, however it is spelled ("\u005f_proto__"
 * too), as an issue at the key's path. JSON.parse keeps such a key as an own property,
 * but zod's objects and records drop it without a word where any other unknown key is
 * refused: it is refused here like one. The text was parsed once already (by the
 * validator); it is parsed again only when it holds "__proto__" or an escape.
 */
export function protoKeyIssues(text: string): Issue[] {
  if (!text.includes('__proto__') && !text.includes('\\u')) return [];
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    return [];
  }
  const issues: Issue[] = [];
  // A stack rather than recursion: a 1 MiB body can nest deeper than the call stack.
  const stack: { value: unknown; path: string }[] = [{ value: root, path: '' }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, path } = item;
    if (typeof value !== 'object' || value === null) continue;
    const at = (key: string) => (path === '' ? key : `${path}.${key}`);
    if (Object.hasOwn(value, '__proto__')) issues.push({ path: at('__proto__'), message: 'Unrecognized key: "__proto__"' });
    const entries: [string, unknown][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
    for (let i = entries.length - 1; i >= 0; i--) stack.push({ value: entries[i]![1], path: at(entries[i]![0]) });
  }
  return issues;
}

/** `If-Match: "n"` (or `W/"n"`, or a bare n) as a configuration version. */
export function ifMatchVersion(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(header);
  if (match === null) throw new LbError(400, 'invalid_if_match', `If-Match must be a version ETag such as "3", got ${header}`);
  return Number(match[1]);
}

/** `If-Match` for one resource: a resource ETag, a version, or `*`; checked by the control plane. */
export function ifMatchTag(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const tags = header.split(',').map((tag) => tag.trim());
  if (tags.some((tag) => !/^(\*|(W\/)?"[^"]*"|\d+)$/.test(tag))) {
    throw new LbError(400, 'invalid_if_match', `If-Match must be an ETag from a previous response (such as "r0123abcd…" or "3"), got ${header}`);
  }
  return header;
}

/** What this Worker has on the edge: its fetchable bindings (Workers VPC, services), its Rate Limiting bindings and LB_ZONES. */
export function edgeFacts(env: Env): EdgeFacts {
  return { hasBinding: (name) => bindingOf(env, name) !== undefined, zones: settings(env).zones, hasRateLimiter: (name) => rateLimiter(env, name) !== undefined };
}

/**
 * The edge warnings (SPEC §10) of a configuration for this Worker, optionally only
 * those about one resource. Warnings never block a change: they ride along.
 */
export function configWarnings(env: Env, config: Config | null, about: (finding: EdgeFinding) => boolean = () => true): ConfigWarning[] {
  if (config === null) return [];
  return edgeFindings(config, edgeFacts(env))
    .filter(about)
    .map(({ path, code, message }) => ({ path, code, message }));
}

// OpenAPI helpers.

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .meta({ id: 'Error' });

export const WarningSchema = z
  .object({
    path: z.string().meta({ description: 'dotted path in the configuration, e.g. pools.0.origins.1.address' }),
    code: z.enum(['ip_origin', 'host_override', 'unknown_binding']),
    message: z.string(),
  })
  .meta({ id: 'Warning', description: "valid here, but will not work (or cannot be checked) on Cloudflare's edge (SPEC §10); never blocks a change" });

export const warningsField = z.array(WarningSchema);

export function jsonContent<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

const error = (description: string) => jsonContent(ErrorSchema, description);

/** The error responses every admin route can give. */
export const commonErrors = {
  401: error('missing or wrong bearer token'),
  503: error('ADMIN_TOKEN is not set: the admin API is disabled'),
};

/** The traffic reads (GET /stats, /metrics): a stats shard that does not answer is a 503 too. */
export const statsErrors = {
  ...commonErrors,
  503: error('ADMIN_TOKEN is not set (admin_disabled), or a stats shard did not answer (stats_unavailable, with Retry-After)'),
};

export const bodyErrors = {
  400: error('body not JSON, schema violation or dangling reference; nothing changed'),
  413: error('body over 1 MiB'),
};

export const configBodyErrors = {
  ...bodyErrors,
  413: error('a configuration over 1 MiB as compact JSON (defaults left out), or a body over 1 MiB that is not one; nothing changed'),
};

export const notFound = { 404: error('no such resource') };
export const conflict = { 409: error('the resource is in use or already exists') };
export const stale = { 412: error('If-Match does not match: the resource changed since it was read') };

export const ifMatchHeader = z.object({
  'if-match': z.string().optional().meta({ description: 'An ETag from a previous response; the change is refused with 412 if it is stale' }),
});

/** A whole configuration the control plane refused to store, as the admin error. */
export function putRefusal(result: Exclude<PutConfigResult, { ok: true }>, ifMatch: number | undefined, invalid: string): LbError {
  switch (result.code) {
    case 'version_mismatch':
      return new LbError(412, 'version_mismatch', `If-Match names version ${ifMatch} but the stored version is ${result.version}`);
    case 'config_too_large':
      return new LbError(413, 'payload_too_large', result.message);
    case 'invalid_config':
      return new LbError(400, 'invalid_config', invalid, { issues: result.issues });
  }
}

/** The admin caller, as the history and the events name it. */
export function actorOf(c: { req: { header(name: string): string | undefined } }): string {
  const agent = c.req.header('user-agent');
  const ip = c.req.header('cf-connecting-ip');
  return ['admin-api', agent && `agent ${agent.slice(0, 200)}`, ip && `from ${ip.slice(0, 64)}`].filter(Boolean).join(' ');
}
