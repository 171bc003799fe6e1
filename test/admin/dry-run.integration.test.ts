import { describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema';
import { admin, configure } from '../support/worker';

// PUT /config?dry_run=true (SPEC §7): the diff, the warnings and the impact on a sample
// of clients; checked like a PUT, stored nowhere.

type Placement = { pool: string; origin: string } | null;
interface LbImpact {
  id: string;
  change: string;
  before: { pools: Record<string, number>; origins: Record<string, number> } | null;
  after: { pools: Record<string, number>; origins: Record<string, number> } | null;
  moved: { clients: number; population: number };
  moves: { client: string; before: Placement; after: Placement }[];
  sessions: { pinned: number; leaving: number; by_origin: Record<string, number> } | null;
}
interface DryRun {
  version: number;
  diff: { added: string[]; removed: string[]; changed: { resource: string; fields: { field: string; before: unknown; after: unknown }[] }[] };
  warnings: { code: string; path: string }[];
  impact: { sample: { clients: number; population: number }; load_balancers: LbImpact[] };
}

const origins = ['a', 'b', 'c'].map((name, i) => ({ name, address: `http://${name}.dry.test:${8081 + i}` }));

function base(): ConfigInput {
  return {
    pools: [
      { id: 'web', origins: origins.map((o) => ({ ...o })) },
      { id: 'api', origins: [{ name: 'x', address: 'http://x.dry.test' }] },
    ],
    load_balancers: [
      { id: 'www', hostname: 'www.dry.test', default_pools: ['web'], session_affinity: 'cookie' },
      { id: 'api', hostname: 'api.dry.test', default_pools: ['api'] },
    ],
  };
}

function withOrigin(change: Record<string, unknown>): ConfigInput {
  const doc = base();
  Object.assign(doc.pools![0].origins[0], change);
  return doc;
}

async function stored(): Promise<{ version: number; config: unknown }> {
  return (await (await admin('GET', '/config')).json()) as { version: number; config: unknown };
}

async function dryRun(doc: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return admin('PUT', '/config?dry_run=true', doc, headers);
}

async function eventCount(): Promise<number> {
  return ((await (await admin('GET', '/events')).json()) as unknown[]).length;
}

describe('PUT /config?dry_run=true', () => {
  it('draining an origin: its sample clients move to the others, pinned sessions stay, nothing is stored', async () => {
    await configure(base());
    const before = await stored();
    const events = await eventCount();

    const res = await dryRun(withOrigin({ drain: true }));
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBeNull();
    const dry = (await res.json()) as DryRun;
    expect(dry.version).toBe(before.version);
    expect(dry.diff).toEqual({ added: [], removed: [], changed: [{ resource: 'origin web/a', fields: [{ field: 'drain', before: false, after: true }] }] });

    const www = dry.impact.load_balancers.find((lb) => lb.id === 'www')!;
    expect(www.change).toBe('changed');
    const onA = www.before!.origins['web/a'];
    expect(onA).toBeGreaterThan(0);
    // Exactly the clients that were on a move, all to b or c; nobody else.
    expect(www.moved.clients).toBe(onA);
    expect(www.after!.origins['web/a'] ?? 0).toBe(0);
    expect(www.moves.length).toBe(Math.min(onA, 50));
    for (const move of www.moves) {
      expect(move.before).toEqual({ pool: 'web', origin: 'a' });
      expect(['b', 'c']).toContain(move.after!.origin);
    }
    // A draining origin keeps its pinned sessions (SPEC §2.6).
    expect(www.sessions).toEqual({ pinned: dry.impact.sample.clients, leaving: 0, by_origin: {} });
    // The other load balancer is untouched, and has no affinity.
    const api = dry.impact.load_balancers.find((lb) => lb.id === 'api')!;
    expect(api).toMatchObject({ change: 'unchanged', moved: { clients: 0 }, sessions: null });

    // Nothing stored, nothing recorded.
    expect(await stored()).toEqual(before);
    expect(await eventCount()).toBe(events);
  });

  it('disabling an origin: its pinned sessions leave it', async () => {
    await configure(base());
    const dry = (await (await dryRun(withOrigin({ enabled: false }))).json()) as DryRun;
    const www = dry.impact.load_balancers.find((lb) => lb.id === 'www')!;
    const onA = www.before!.origins['web/a'];
    expect(www.sessions).toEqual({ pinned: dry.impact.sample.clients, leaving: onA, by_origin: { 'web/a': onA } });
  });

  it("a pool taken out of a load balancer's pools: its pinned sessions leave it, though the pool is still defined", async () => {
    await configure(base());
    const doc = base();
    doc.load_balancers![0].default_pools = ['api'];
    const dry = (await (await dryRun(doc)).json()) as DryRun;
    const www = dry.impact.load_balancers.find((lb) => lb.id === 'www')!;
    const pinned = dry.impact.sample.clients;
    expect(www.sessions?.pinned).toBe(pinned);
    // Every session was pinned to a web origin: none of them is honoured any more.
    expect(www.sessions?.leaving).toBe(pinned);
  });

  it('a removed load balancer moves every sample client to nobody; an added one from nobody', async () => {
    await configure(base());
    const doc = base();
    doc.load_balancers = [doc.load_balancers![0], { id: 'api2', hostname: 'api2.dry.test', default_pools: ['api'] }];
    const dry = (await (await dryRun(doc)).json()) as DryRun;
    expect(dry.diff.added).toEqual(['load balancer api2']);
    expect(dry.diff.removed).toEqual(['load balancer api']);
    const removed = dry.impact.load_balancers.find((lb) => lb.id === 'api')!;
    expect(removed).toMatchObject({ change: 'removed', after: null, moved: { clients: dry.impact.sample.clients } });
    expect(removed.moves[0]).toMatchObject({ before: { pool: 'api', origin: 'x' }, after: null });
    const added = dry.impact.load_balancers.find((lb) => lb.id === 'api2')!;
    expect(added).toMatchObject({ change: 'added', before: null });
    expect(added.moves[0]).toMatchObject({ before: null, after: { pool: 'api', origin: 'x' } });
  });

  it('is checked like a PUT: stale If-Match 412, invalid 400, and carries the warnings', async () => {
    await configure(base());
    const { version } = await stored();
    expect((await dryRun(withOrigin({ drain: true }), { 'if-match': `"${version - 1}"` })).status).toBe(412);
    expect((await dryRun(withOrigin({ drain: true }), { 'if-match': `"${version}"` })).status).toBe(200);
    const invalid = await dryRun(withOrigin({ weight: -1 }));
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: { issues: { path: string }[] } }).error.issues).toContainEqual(
      expect.objectContaining({ path: 'pools.0.origins.0.weight' }),
    );
    const ip = (await (await dryRun(withOrigin({ address: 'http://192.0.2.7' }))).json()) as DryRun;
    expect(ip.warnings).toContainEqual(expect.objectContaining({ code: 'ip_origin', path: 'pools.0.origins.0.address' }));
    expect((await stored()).version).toBe(version);
  });

  it('dry_run=false stores, as a plain PUT does', async () => {
    await configure(base());
    const { version } = await stored();
    const res = await admin('PUT', '/config?dry_run=false', withOrigin({ drain: true }));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { version: number }).version).toBe(version + 1);
    expect((await admin('PUT', '/config?dry_run=yes', base())).status).toBe(400);
  });
});

describe('PUT /config query', () => {
  it('a misspelt dry_run is refused, not taken as a plain PUT', async () => {
    await configure(base());
    const { version } = await stored();
    for (const query of ['dryrun=true', 'dry-run=true', 'dryRun=true', 'dry_run=true&x=1']) {
      const res = await admin('PUT', `/config?${query}`, withOrigin({ drain: true }));
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
    }
    expect((await stored()).version).toBe(version);
  });
});
