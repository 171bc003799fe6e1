import { describe, expect, it } from 'vitest';
import { compactJson, MAX_CONFIG_BYTES } from '../../src/config/compact';
import type { ConfigInput } from '../../src/config/schema';
import { validateConfig } from '../../src/config/validate';
import { admin, configure } from '../support/worker';

// SPEC §7: a body over 1 MiB is 413, and a document returned by GET can always be PUT
// back. The limit counts a configuration's compact form (defaults left out), so GET's
// spelled-out defaults and an operator's indentation never push it over.

const address = (i: number) => `http://10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:8080`;

function bigConfig(count: number, name = (i: number) => `o${i}`): ConfigInput {
  return {
    pools: [{ id: 'big', origins: Array.from({ length: count }, (_, i) => ({ name: name(i), address: address(i) })) }],
    load_balancers: [{ id: 'main', hostname: '*', default_pools: ['big'] }],
  };
}

async function stored(): Promise<{ version: number; config: unknown; text: string }> {
  const res = await admin('GET', '/config');
  expect(res.status).toBe(200);
  const text = await res.text();
  const body = JSON.parse(text) as { version: number; config: unknown };
  return { ...body, text };
}

async function refusal(res: Response, status: number): Promise<{ code: string; message: string }> {
  expect(res.status).toBe(status);
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}

describe('a 10,000-origin configuration', () => {
  it('survives GET then PUT unchanged, as GET wrote it and indented', async () => {
    await configure(bigConfig(10_000));
    const first = await stored();
    expect(new TextEncoder().encode(first.text).byteLength).toBeGreaterThan(1024 * 1024);

    // GET's configuration, exactly as it came, every default written.
    const configText = first.text.slice(first.text.indexOf('"config":') + '"config":'.length, first.text.lastIndexOf(',"warnings":'));
    expect(JSON.parse(configText)).toEqual(first.config);
    const again = await admin('PUT', '/config', configText);
    expect(again.status).toBe(200);
    const second = await stored();
    expect(second.version).toBe(first.version + 1);
    expect(second.config).toEqual(first.config);

    // Indented by an operator's tool, about 2.5 MB: still the same configuration.
    const indented = await admin('PUT', '/config', JSON.stringify(second.config, null, 2), { 'if-match': `"${second.version}"` });
    expect(indented.status).toBe(200);
    const third = await stored();
    expect(third.version).toBe(second.version + 1);
    expect(third.config).toEqual(first.config);
  });
});

describe('over the limit', () => {
  it('a configuration over 1 MiB as compact JSON is 413 and changes nothing', async () => {
    await configure(bigConfig(2));
    const before = await stored();
    // 12,000 origins with 64-character names: about 1.1 MB even with nothing but names and addresses.
    const huge = bigConfig(12_000, (i) => `origin-${String(i).padStart(56, '0')}`);
    const error = await refusal(await admin('PUT', '/config', huge), 413);
    expect(error.code).toBe('payload_too_large');
    expect(error.message).toMatch(/^the configuration is \d+ bytes as compact JSON/);
    expect((await stored()).version).toBe(before.version);
  });

  it('a body over 1 MiB that is not a valid configuration is 413, not 400', async () => {
    const before = await stored();
    const full = validateConfig(bigConfig(10_000));
    if (!full.ok) throw new Error('invalid');
    // Not JSON; and GET's 10,000-origin document (1.3 MB) with one unknown field.
    for (const body of [`{"pools":[${' '.repeat(1024 * 1024)}`, JSON.stringify({ ...full.config, colour: 'blue' })]) {
      expect((await refusal(await admin('PUT', '/config', body), 413)).code).toBe('payload_too_large');
    }
    expect((await stored()).version).toBe(before.version);
  });

  it('a resource change that would take the configuration over the limit is 413 config_too_large', async () => {
    // Fill the configuration to just under the limit, then add one more origin.
    const name = (i: number) => `n${String(i).padStart(60, '0')}`;
    let count = 10_000;
    const size = (n: number) => {
      const result = validateConfig(bigConfig(n, name));
      if (!result.ok) throw new Error('invalid');
      return new TextEncoder().encode(compactJson(result.config)).byteLength;
    };
    const perOrigin = size(count + 1) - size(count);
    count += Math.floor((MAX_CONFIG_BYTES - size(count)) / perOrigin);
    while (size(count) > MAX_CONFIG_BYTES) count--;
    while (size(count + 1) <= MAX_CONFIG_BYTES) count++;
    await configure(bigConfig(count, name));
    const before = await stored();

    const error = await refusal(await admin('POST', '/pools/big/origins', { name: name(count + 1), address: address(count + 1) }), 413);
    expect(error.code).toBe('config_too_large');
    expect(error.message).toContain('at most 1048576');
    expect((await stored()).version).toBe(before.version);

    // Taking one away is fine.
    expect((await admin('DELETE', `/pools/big/origins/${name(0)}`)).status).toBe(200);
  });
});

describe('the form GET writes', () => {
  it('a configuration too large to PUT back once its defaults are written out is refused', async () => {
    await configure(bigConfig(2));
    const before = await stored();
    // 16,000 load balancers with nothing but their required fields: under 1 MiB compact, over 8 MiB as GET would write it.
    const lbs = Array.from({ length: 16_000 }, (_, i) => ({ id: `l${i}`, hostname: `h${i}.t`, default_pools: ['big'] }));
    const error = await refusal(await admin('PUT', '/config', { ...bigConfig(2), load_balancers: lbs }), 413);
    expect(error.message).toMatch(/with its defaults written out, as GET returns it/);
    expect((await stored()).version).toBe(before.version);
  });

  it("a 10,000-origin pool's GET can be PUT back on its own route", async () => {
    await configure(bigConfig(10_000));
    const got = await admin('GET', '/pools/big');
    const text = await got.text();
    expect(new TextEncoder().encode(text).byteLength).toBeGreaterThan(1024 * 1024);
    const { pool } = JSON.parse(text) as { pool: unknown };
    const before = await stored();
    const res = await admin('PUT', '/pools/big', pool);
    expect(res.status).toBe(200);
    expect((await stored()).config).toEqual(before.config);
    // Over 1 MiB and not a pool: 413.
    expect((await refusal(await admin('PUT', '/pools/big', { ...(pool as object), colour: 'blue' }), 413)).code).toBe('payload_too_large');
  });
});

describe('events of large changes', () => {
  it('keep a bounded detail: a replaced 10,000-origin pool is summarised, the version history keeps it whole', async () => {
    await configure(bigConfig(10_000));
    const { pool } = (await (await admin('GET', '/pools/big')).json()) as { pool: { origins: { weight: number }[] } };
    for (const origin of pool.origins) origin.weight = 2;
    expect((await admin('PUT', '/pools/big', pool)).status).toBe(200);
    const { events } = (await (await admin('GET', '/events?limit=1')).json()) as { events: { detail: { action: string; from: unknown; to: unknown } }[] };
    const event = events[0]!;
    expect(event.detail.action).toBe('replace');
    expect(event.detail.to).toEqual({ omitted: expect.stringMatching(/^\d+ bytes; see the version history$/) });
    const { version, config } = await stored();
    const kept = (await (await admin('GET', `/config/versions/${version}`)).json()) as { config: unknown };
    expect(kept.config).toEqual(config);
  });
});
