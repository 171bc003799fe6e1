import { describe, expect, it } from 'vitest';
import cloudflareExport from '../../examples/cloudflare-export.json';
import { admin } from '../support/worker';

// POST /__lb/api/import/cloudflare with the shipped sample export: a dry run, then
// applied, then steered through explain as the export describes.

interface Imported {
  config: { pools: { id: string; origins: { address: string }[] }[]; load_balancers: { id: string; hostname: string; rules?: { name: string }[] }[] };
  unmapped: { path: string; message: string }[];
  refusal?: { code: string; message: string };
  version?: number;
}

describe('Cloudflare import route', () => {
  it('converts without storing, then stores with apply=true and steers as the export describes', async () => {
    const before = ((await (await admin('GET', '/config')).json()) as { version: number }).version;
    const dry = await admin('POST', '/import/cloudflare', cloudflareExport);
    expect(dry.status).toBe(200);
    const converted = (await dry.json()) as Imported;
    expect(converted.version).toBeUndefined();
    expect(converted.config.pools.map((p) => p.id)).toEqual(['eu-frankfurt', 'us-ashburn', 'sa-saopaulo']);
    expect(converted.config.load_balancers[0]!.rules?.map((r) => r.name)).toEqual(['API v2 is served from Ashburn only']);
    expect(converted.unmapped.map((n) => n.path)).not.toContain('load_balancers[0].rules');
    expect(((await (await admin('GET', '/config')).json()) as { version: number }).version).toBe(before);

    const applied = await admin('POST', '/import/cloudflare?apply=true', cloudflareExport);
    expect(applied.status).toBe(200);
    expect(((await applied.json()) as Imported).version).toBe(before + 1);

    const route = async (query: string) => {
      const res = await admin('GET', `/explain?host=app.example.com&${query}`);
      expect(res.status).toBe(200);
      return ((await res.json()) as { candidates: { pool: string }[]; affinity: { mode: string }; rules: string[] });
    };
    expect((await route('country=BR')).candidates[0]!.pool).toBe('sa-saopaulo');
    expect((await route('country=DE')).candidates[0]!.pool).toBe('eu-frankfurt');
    expect((await route('country=US&colo=IAD')).candidates[0]!.pool).toBe('us-ashburn');
    expect((await route('country=JP')).candidates[0]!.pool).toBe('eu-frankfurt');
    const api = await route('country=JP&path=/api/v2/items');
    expect(api.rules).toEqual(['API v2 is served from Ashburn only']);
    expect(api.candidates[0]!.pool).toBe('us-ashburn');
    expect((await route('country=BR')).affinity.mode).toBe('cookie');
  });

  it('refuses what is not an export with 400 and changes nothing', async () => {
    const before = await (await admin('GET', '/config')).text();
    for (const body of ['"just a string"', '{"nothing":[]}', '[1,2,3]', '{"pools":']) {
      const res = await admin('POST', '/import/cloudflare?apply=true', body);
      expect(res.status, body).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toMatch(/^invalid_(import|json|request)$/);
    }
    expect(await (await admin('GET', '/config')).text()).toBe(before);
  });

  describe('the import guard: nothing that would take traffic down is applied', () => {
    const cfId = (n: number) => n.toString(16).padStart(32, '0');
    const pool = (n: number, name: string, origins: unknown[] = [{ name: 'o1', address: '192.0.2.10' }]) => ({ id: cfId(n), name, origins });
    const stored = async () => (await admin('GET', '/config')).text();

    async function refusedImport(body: unknown): Promise<string> {
      const before = await stored();
      const res = await admin('POST', '/import/cloudflare?apply=true', body);
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe('import_empty');
      expect(await stored()).toBe(before);
      return error.message;
    }

    it('a conversion without any load balancer is 400 import_empty and the version is unchanged', async () => {
      // Something valid is stored first, so that "unchanged" means something.
      expect((await admin('POST', '/import/cloudflare?apply=true', cloudflareExport)).status).toBe(200);
      const before = ((await (await admin('GET', '/config')).json()) as { version: number }).version;
      expect(await refusedImport({ pools: [{ id: 'x' }] })).toMatch(/no load balancer/);
      expect(await refusedImport({ pools: [pool(1, 'fine')] })).toMatch(/no load balancer/);
      expect(await refusedImport({ pools: [] })).toMatch(/no load balancer/);
      expect(((await (await admin('GET', '/config')).json()) as { version: number }).version).toBe(before);
      // Proxying still finds the load balancers stored before.
      const explained = await admin('GET', '/explain?host=app.example.com&country=DE');
      expect(explained.status).toBe(200);
    });

    it('a referenced pool without usable origins is 400 import_empty naming the pool', async () => {
      const message = await refusedImport({
        pools: [pool(1, 'kept'), pool(2, 'hollow', []), pool(3, 'broken', [{ name: 'x', address: 'not a host' }])],
        load_balancers: [
          { id: cfId(0xa), name: 'a.example', default_pools: [cfId(1), cfId(2)], fallback_pool: cfId(1) },
          { id: cfId(0xb), name: 'b.example', default_pools: [cfId(1)], region_pools: { WEU: [cfId(3)] } },
        ],
      });
      expect(message).toContain('pool "hollow" (pools[1])');
      expect(message).toContain('load_balancers[0].default_pools[1]');
      expect(message).toContain('pool "broken" (pools[2])');
      expect(message).toContain('load_balancers[1].region_pools.WEU[0]');
      expect(message).not.toContain('"kept"');
    });

    it('a dry run still returns the conversion, with the refusal beside it; a good one has none', async () => {
      const before = await stored();
      const dry = await admin('POST', '/import/cloudflare', { pools: [{ id: 'x' }] });
      expect(dry.status).toBe(200);
      const converted = (await dry.json()) as Imported;
      expect(converted.config.load_balancers).toEqual([]);
      expect(converted.unmapped.map((n) => n.path)).toContain('pools[0].origins');
      expect(converted.refusal).toEqual({ code: 'import_empty', message: expect.stringMatching(/no load balancer/) });
      expect(converted.version).toBeUndefined();

      const good = (await (await admin('POST', '/import/cloudflare', cloudflareExport)).json()) as Imported;
      expect(good).not.toHaveProperty('refusal');
      expect(await stored()).toBe(before);
    });

    it('an unreferenced pool without origins does not block the rest', async () => {
      const res = await admin('POST', '/import/cloudflare?apply=true', {
        pools: [pool(1, 'live'), pool(2, 'spare', [])],
        load_balancers: [{ id: cfId(0xa), name: 'guard.example', default_pools: [cfId(1)] }],
      });
      expect(res.status).toBe(200);
      const applied = (await res.json()) as Imported;
      expect(applied.config.pools.map((p) => p.id)).toEqual(['live']);
      expect(applied.unmapped.map((n) => n.path)).toContain('pools[1].origins');
      expect(applied.version).toBeGreaterThan(0);
    });
  });
});
