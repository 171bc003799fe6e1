import { describe, expect, it } from 'vitest';
import { applyEdit, describeDiff, diffConfigs, ifMatchHolds, issuesFor, resourceTag } from '../../src/control/config-edit';
import { loadBalancer, pool, validConfig } from '../support/configs';

const config = () =>
  validConfig({
    monitors: [{ id: 'mon' }],
    pools: [pool('eu', ['e1', 'e2'], { monitor: 'mon' }), pool('us', ['u1']), pool('sa', ['s1'])],
    load_balancers: [
      loadBalancer({ default_pools: ['eu'], country_pools: { BR: ['sa'] }, random_steering: { pool_weights: { us: 2 } } }),
    ],
  });

describe('applyEdit', () => {
  it('names every field of every load balancer that still uses a pool', () => {
    const sa = applyEdit(config(), { kind: 'pool', action: 'delete', id: 'sa' }, 1);
    expect(sa).toMatchObject({ ok: false, status: 409, code: 'in_use', message: expect.stringContaining('main (country_pools.BR)') });
    const us = applyEdit(config(), { kind: 'pool', action: 'delete', id: 'us' }, 1);
    expect(us).toMatchObject({ ok: false, code: 'in_use', message: expect.stringContaining('random_steering.pool_weights') });
  });

  it('does not touch the stored configuration it is given', () => {
    const stored = config();
    const before = JSON.stringify(stored);
    const outcome = applyEdit(stored, { kind: 'origin', action: 'patch', pool: 'eu', id: 'e1', value: { weight: 7 } }, 1);
    expect(outcome.ok).toBe(true);
    expect(JSON.stringify(stored)).toBe(before);
    if (outcome.ok) expect(outcome.document.pools[0]!.origins[0]!.weight).toBe(7);
  });

  it('records only the fields a patch changes, with their old values', () => {
    const outcome = applyEdit(config(), { kind: 'origin', action: 'patch', pool: 'eu', id: 'e2', value: { weight: 1, drain: true } }, 1);
    expect(outcome.ok && outcome.change).toEqual({ resource: 'origin', id: 'eu/e2', action: 'patch', from: { drain: false }, to: { drain: true } });
  });

  it('starts from an empty configuration when none is stored', () => {
    const outcome = applyEdit(null, { kind: 'monitor', action: 'create', value: { id: 'm' } }, 0);
    expect(outcome.ok && outcome.document.monitors).toEqual([{ id: 'm' }]);
    expect(outcome.ok && outcome.ref?.path).toEqual(['monitors', 0]);
  });

  it('checks If-Match before anything else', () => {
    const stored = config();
    const tag = resourceTag(stored.pools[1]);
    expect(applyEdit(stored, { kind: 'pool', action: 'delete', id: 'us' }, 4, '"r0000000000000000"')).toMatchObject({ status: 412 });
    // With a matching tag, the in-use check is what refuses it.
    expect(applyEdit(stored, { kind: 'pool', action: 'delete', id: 'us' }, 4, tag)).toMatchObject({ status: 409 });
  });
});

describe('ifMatchHolds and resourceTag', () => {
  it('matches a resource tag, a version, * on an existing resource, and any of a list', () => {
    const value = { id: 'x', weight: 1 };
    const tag = resourceTag(value);
    expect(tag).toMatch(/^"r[0-9a-f]{16}"$/);
    expect(resourceTag({ id: 'x', weight: 2 })).not.toBe(tag);
    expect(ifMatchHolds(tag, value, 3)).toBe(true);
    expect(ifMatchHolds(`W/${tag}`, value, 3)).toBe(true);
    expect(ifMatchHolds(tag, { id: 'x', weight: 2 }, 3)).toBe(false);
    expect(ifMatchHolds('"3"', value, 3)).toBe(true);
    expect(ifMatchHolds('"2"', value, 3)).toBe(false);
    expect(ifMatchHolds('*', value, 3)).toBe(true);
    expect(ifMatchHolds('*', undefined, 3)).toBe(false);
    expect(ifMatchHolds(`"2", ${tag}`, value, 3)).toBe(true);
  });
});

describe('issuesFor', () => {
  it('makes issues inside the edited resource relative and leaves others whole', () => {
    const ref = { kind: 'pool' as const, id: 'eu', path: ['pools', 1] };
    expect(
      issuesFor(
        [
          { path: 'pools.1.monitor', message: 'a' },
          { path: 'pools.10.monitor', message: 'b' },
          { path: 'load_balancers.0.default_pools.0', message: 'c' },
        ],
        ref,
      ),
    ).toEqual([
      { path: 'monitor', message: 'a' },
      { path: 'pools.10.monitor', message: 'b' },
      { path: 'load_balancers.0.default_pools.0', message: 'c' },
    ]);
  });
});

describe('diffConfigs', () => {
  it('names added, removed and changed resources, origins apart from their pools', () => {
    const before = config();
    const after = structuredClone(before);
    after.pools[0]!.origins[0]!.weight = 3;
    after.pools.splice(2, 1);
    after.load_balancers[0]!.country_pools = {};
    after.pools.push({ ...after.pools[1]!, id: 'ap' });
    const diff = diffConfigs(before, after);
    expect(diff).toEqual({
      added: ['pool ap', 'origin ap/u1'],
      removed: ['pool sa', 'origin sa/s1'],
      changed: ['load balancer main', 'origin eu/e1'],
    });
    expect(describeDiff(diff, 3)).toBe('+pool ap, +origin ap/u1, -pool sa and 3 more');
    expect(describeDiff(diffConfigs(before, before))).toBe('no resource changed');
  });
});
