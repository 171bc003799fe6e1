import { describe, expect, it } from 'vitest';
import cloudflareExport from '../../examples/cloudflare-export.json';
import { admin } from '../support/worker';

// POST /__lb/api/import/cloudflare with the shipped sample export: a dry run, then
// applied, then steered through explain as the export describes.

interface Imported {
  config: { pools: { id: string; origins: { address: string }[] }[]; load_balancers: { id: string; hostname: string }[] };
  unmapped: { path: string; message: string }[];
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
    expect(converted.unmapped.map((n) => n.path)).toContain('load_balancers[0].rules');
    expect(((await (await admin('GET', '/config')).json()) as { version: number }).version).toBe(before);

    const applied = await admin('POST', '/import/cloudflare?apply=true', cloudflareExport);
    expect(applied.status).toBe(200);
    expect(((await applied.json()) as Imported).version).toBe(before + 1);

    const route = async (query: string) => {
      const res = await admin('GET', `/explain?host=app.example.com&${query}`);
      expect(res.status).toBe(200);
      return ((await res.json()) as { candidates: { pool: string }[]; affinity: { mode: string } });
    };
    expect((await route('country=BR')).candidates[0]!.pool).toBe('sa-saopaulo');
    expect((await route('country=DE')).candidates[0]!.pool).toBe('eu-frankfurt');
    expect((await route('country=US&colo=IAD')).candidates[0]!.pool).toBe('us-ashburn');
    expect((await route('country=JP')).candidates[0]!.pool).toBe('eu-frankfurt');
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
});
