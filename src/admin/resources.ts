import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { EdgeFinding } from '../config/edge-warnings';
import {
  LoadBalancerBodySchema,
  LoadBalancerSchema,
  MonitorBodySchema,
  MonitorSchema,
  OriginPatchSchema,
  OriginSchema,
  PoolBodySchema,
  PoolSchema,
} from '../config/schema';
import { locate, resourceTag, type CollectionKind, type ConfigEdit } from '../control/config-edit';
import type { EditResult } from '../control/control-plane';
import type { Config, Origin } from '../config/schema';
import { adoptSnapshot } from '../control/snapshot-cache';
import { controlPlane } from '../control/locator';
import { LbError } from '../errors';
import {
  actorOf,
  adminRoutes,
  bodyErrors,
  commonErrors,
  configWarnings,
  conflict,
  ifMatchHeader,
  ifMatchTag,
  jsonBody,
  jsonContent,
  notFound,
  resourceBody,
  stale,
  warningsField,
  type AdminEnv,
} from './http';

// Monitors, pools, origins and load balancers (SPEC §7): list, get, create, replace,
// delete, and PATCH for origins. Every change goes to the control plane as one
// ConfigEdit, which serializes it, checks If-Match and validates the whole result.
// Every answer carries the edge warnings (SPEC §10) about the resources it returns,
// computed on the configuration after the call; a DELETE, which returns none, carries
// those of the whole configuration left.

const version = z.number().int().meta({ description: 'The configuration version after the call' });
const warnings = warningsField.meta({ description: 'edge warnings about the returned resources, with paths in the whole configuration' });
const allWarnings = warningsField.meta({ description: 'edge warnings of the whole configuration after the call' });

type About = (finding: EdgeFinding) => boolean;

/** Which findings concern a resource: an origin's or a pool's own, a monitor's or a load balancer's by their path. */
function about(config: Config, kind: CollectionKind | 'origin', id: string, pool?: string): About {
  if (kind === 'origin') return (f) => f.pool === pool && f.origin === id;
  if (kind === 'pool') return (f) => f.pool === id;
  const found = locate(config, kind, id);
  if (found === undefined) return () => false;
  const prefix = `${found.ref.path.join('.')}.`;
  return (f) => f.path.startsWith(prefix);
}

/** Which findings concern any resource of a collection. */
function aboutCollection(kind: CollectionKind): About {
  if (kind === 'pool') return () => true;
  const prefix = kind === 'monitor' ? 'monitors.' : 'load_balancers.';
  return (f) => f.path.startsWith(prefix);
}

/** Who made a change, for the event log. */
async function applyEdit(c: Context<AdminEnv>, edit: ConfigEdit) {
  const result = (await controlPlane(c.env).edit(edit, ifMatchTag(c.req.header('if-match')), actorOf(c))) as EditResult;
  if (!result.ok) throw new LbError(result.status, result.code, result.message, { issues: result.issues });
  await adoptSnapshot(c.env, result.snapshot);
  if (result.tag !== undefined) c.header('ETag', result.tag);
  return result;
}

/** The warnings about a resource in the configuration an edit left. */
function resultWarnings(c: Context<AdminEnv>, result: { snapshot: { config: Config | null } }, kind: CollectionKind | 'origin', id: string, pool?: string) {
  const config = result.snapshot.config;
  return config === null ? [] : configWarnings(c.env, config, about(config, kind, id, pool));
}

async function storedConfig(c: Context<AdminEnv>) {
  const stored = await controlPlane(c.env).getConfig();
  return { version: stored.version, config: stored.config ?? { monitors: [], pools: [], load_balancers: [] } };
}

interface Collection {
  kind: CollectionKind;
  plural: 'monitors' | 'pools' | 'load_balancers';
  singular: 'monitor' | 'pool' | 'load_balancer';
  param: string;
  tag: string;
  schema: z.ZodType;
  body: z.ZodType;
}

const COLLECTIONS: Collection[] = [
  { kind: 'monitor', plural: 'monitors', singular: 'monitor', param: 'id', tag: 'Monitors', schema: MonitorSchema, body: MonitorBodySchema },
  { kind: 'pool', plural: 'pools', singular: 'pool', param: 'pool', tag: 'Pools', schema: PoolSchema, body: PoolBodySchema },
  {
    kind: 'load_balancer',
    plural: 'load_balancers',
    singular: 'load_balancer',
    param: 'id',
    tag: 'Load balancers',
    schema: LoadBalancerSchema,
    body: LoadBalancerBodySchema,
  },
];

function collectionRoutes(spec: Collection) {
  const { kind, plural, singular, param, tag } = spec;
  const one = z.object({ version, [singular]: spec.schema, warnings });
  const params = z.object({ [param]: z.string().meta({ param: { name: param, in: 'path' } }) });
  const itemPath = `/${plural}/{${param}}`;
  const app = adminRoutes('invalid_config');
  const idOf = (c: Context) => c.req.param(param)!;

  app.openapi(
    createRoute({
      method: 'get',
      path: `/${plural}`,
      tags: [tag],
      summary: `List ${plural.replace('_', ' ')}`,
      responses: { 200: jsonContent(z.object({ version, [plural]: z.array(spec.schema), warnings }), `every ${singular}`), ...commonErrors },
    }),
    async (c) => {
      const { version: v, config } = await storedConfig(c);
      c.header('ETag', `"${v}"`);
      return c.json({ version: v, [plural]: config[plural], warnings: configWarnings(c.env, config, aboutCollection(kind)) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: `/${plural}`,
      tags: [tag],
      summary: `Create a ${singular.replace('_', ' ')}`,
      middleware: resourceBody(kind, spec.schema),
      request: { body: { required: true, content: { 'application/json': { schema: spec.schema } } } },
      responses: { 201: jsonContent(one, 'created'), ...bodyErrors, ...conflict, ...commonErrors },
    }),
    async (c) => {
      const result = await applyEdit(c, { kind, action: 'create', value: c.req.valid('json') as Record<string, unknown> });
      const created = (result.resource as { id: string }).id;
      return c.json({ version: result.version, [singular]: result.resource, warnings: resultWarnings(c, result, kind, created) }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: itemPath,
      tags: [tag],
      summary: `Get a ${singular.replace('_', ' ')}`,
      request: { params },
      responses: { 200: jsonContent(one, `the ${singular}, with its ETag`), ...notFound, ...commonErrors },
    }),
    async (c) => {
      const { version: v, config } = await storedConfig(c);
      const found = locate(config, kind, idOf(c));
      if (found === undefined) throw new LbError(404, 'not_found', `no ${singular.replace('_', ' ')} "${idOf(c)}"`);
      c.header('ETag', resourceTag(found.value));
      return c.json({ version: v, [singular]: found.value, warnings: configWarnings(c.env, config, about(config, kind, idOf(c))) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: itemPath,
      tags: [tag],
      summary: `Replace a ${singular.replace('_', ' ')}`,
      middleware: resourceBody(kind, spec.body),
      request: { params, headers: ifMatchHeader, body: { required: true, content: { 'application/json': { schema: spec.body } } } },
      responses: { 200: jsonContent(one, 'replaced'), ...bodyErrors, ...notFound, ...stale, ...commonErrors },
    }),
    async (c) => {
      const result = await applyEdit(c, { kind, action: 'replace', id: idOf(c), value: c.req.valid('json') as Record<string, unknown> });
      return c.json({ version: result.version, [singular]: result.resource, warnings: resultWarnings(c, result, kind, idOf(c)) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: itemPath,
      tags: [tag],
      summary: `Delete a ${singular.replace('_', ' ')}`,
      request: { params, headers: ifMatchHeader },
      responses: {
        200: jsonContent(z.object({ version, warnings: allWarnings }), 'deleted'),
        ...notFound,
        409: jsonContent(z.object({ error: z.object({ code: z.literal('in_use'), message: z.string() }) }), 'still referenced'),
        ...stale,
        ...commonErrors,
      },
    }),
    async (c) => {
      const result = await applyEdit(c, { kind, action: 'delete', id: idOf(c) });
      return c.json({ version: result.version, warnings: configWarnings(c.env, result.snapshot.config) }, 200);
    },
  );
  return app;
}

function originRoutes() {
  const app = adminRoutes('invalid_config');
  const one = z.object({ version, origin: OriginSchema, warnings });
  const poolParam = z.object({ pool: z.string() });
  const originParams = z.object({ pool: z.string(), origin: z.string() });
  const tags = ['Origins'];

  app.openapi(
    createRoute({
      method: 'get',
      path: '/pools/{pool}/origins',
      tags,
      summary: "List a pool's origins",
      request: { params: poolParam },
      responses: { 200: jsonContent(z.object({ version, origins: z.array(OriginSchema), warnings }), 'the origins'), ...notFound, ...commonErrors },
    }),
    async (c) => {
      const { version: v, config } = await storedConfig(c);
      const pool = config.pools.find((p) => p.id === c.req.valid('param').pool);
      if (pool === undefined) throw new LbError(404, 'not_found', `no pool "${c.req.valid('param').pool}"`);
      return c.json({ version: v, origins: pool.origins, warnings: configWarnings(c.env, config, about(config, 'pool', pool.id)) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/pools/{pool}/origins',
      tags,
      summary: 'Add an origin to a pool',
      middleware: jsonBody,
      request: { params: poolParam, headers: ifMatchHeader, body: { required: true, content: { 'application/json': { schema: OriginSchema } } } },
      responses: { 201: jsonContent(one, 'added'), ...bodyErrors, ...notFound, ...conflict, ...stale, ...commonErrors },
    }),
    async (c) => {
      const { pool } = c.req.valid('param');
      const result = await applyEdit(c, { kind: 'origin', action: 'create', pool, value: c.req.valid('json') });
      const created = result.resource as Origin;
      return c.json({ version: result.version, origin: created, warnings: resultWarnings(c, result, 'origin', created.name, pool) }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/pools/{pool}/origins/{origin}',
      tags,
      summary: 'Get an origin',
      request: { params: originParams },
      responses: { 200: jsonContent(one, 'the origin, with its ETag'), ...notFound, ...commonErrors },
    }),
    async (c) => {
      const { pool, origin } = c.req.valid('param');
      const { version: v, config } = await storedConfig(c);
      const found = locate(config, 'origin', origin, pool);
      if (found === undefined) throw new LbError(404, 'not_found', `no origin "${pool}/${origin}"`);
      c.header('ETag', resourceTag(found.value));
      return c.json({ version: v, origin: found.value as Origin, warnings: configWarnings(c.env, config, about(config, 'origin', origin, pool)) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/pools/{pool}/origins/{origin}',
      tags,
      summary: 'Replace an origin',
      middleware: jsonBody,
      request: {
        params: originParams,
        headers: ifMatchHeader,
        body: { required: true, content: { 'application/json': { schema: OriginSchema.extend({ name: z.string().optional() }) } } },
      },
      responses: { 200: jsonContent(one, 'replaced'), ...bodyErrors, ...notFound, ...stale, ...commonErrors },
    }),
    async (c) => {
      const { pool, origin } = c.req.valid('param');
      const result = await applyEdit(c, { kind: 'origin', action: 'replace', pool, id: origin, value: c.req.valid('json') });
      return c.json({ version: result.version, origin: result.resource as Origin, warnings: resultWarnings(c, result, 'origin', origin, pool) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/pools/{pool}/origins/{origin}',
      tags,
      summary: 'Change an origin: weight, enabled (maintenance), drain, backup, address, header',
      middleware: jsonBody,
      request: { params: originParams, headers: ifMatchHeader, body: { required: true, content: { 'application/json': { schema: OriginPatchSchema } } } },
      responses: { 200: jsonContent(one, 'changed'), ...bodyErrors, ...notFound, ...stale, ...commonErrors },
    }),
    async (c) => {
      const { pool, origin } = c.req.valid('param');
      const result = await applyEdit(c, { kind: 'origin', action: 'patch', pool, id: origin, value: c.req.valid('json') });
      return c.json({ version: result.version, origin: result.resource as Origin, warnings: resultWarnings(c, result, 'origin', origin, pool) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/pools/{pool}/origins/{origin}',
      tags,
      summary: 'Remove an origin from its pool',
      request: { params: originParams, headers: ifMatchHeader },
      responses: { 200: jsonContent(z.object({ version, warnings: allWarnings }), 'removed'), ...notFound, ...conflict, ...stale, ...commonErrors },
    }),
    async (c) => {
      const { pool, origin } = c.req.valid('param');
      const result = await applyEdit(c, { kind: 'origin', action: 'delete', pool, id: origin });
      return c.json({ version: result.version, warnings: configWarnings(c.env, result.snapshot.config) }, 200);
    },
  );
  return app;
}

export const resourceRoutes = [...COLLECTIONS.map(collectionRoutes), originRoutes()];
