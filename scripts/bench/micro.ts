// Micro-benchmarks of the steering core, run in Node (bundled by scripts/bench.mjs):
// one decision at 10 … 100,000 origins for each origin policy and for geo and
// proximity pool steering, and the cost of loading a snapshot of that size. Load
// balancer rules have theirs in micro-rules.ts, bundled in from here.
import { ORIGIN_POLICIES, type ConfigInput, type OriginPolicy } from '../../src/config/schema';
import { validateConfig } from '../../src/config/validate';
import { REGIONS as ALL_REGIONS } from '../../src/geo/regions';
import { PassiveHealth } from '../../src/health/passive';
import { decide } from '../../src/steering/decide';
import type { ClientFacts } from '../../src/steering/facts';
import { Plan } from '../../src/steering/plan';
import { time } from './timing';

export { runRulesMicro, type RulesMicroResult } from './micro-rules';

export interface MicroResult {
  name: string;
  origins: number;
  nsPerOp: number;
  ops: number;
}

/** Ten regions, one per pool. */
const REGIONS = ALL_REGIONS.slice(0, 10);

/** Ten pools (one per region, with coordinates) sharing `origins` origins. */
function config(origins: number, policy: OriginPolicy, steering: '' | 'geo' | 'proximity'): ConfigInput {
  const pools = Array.from({ length: 10 }, (_, p) => ({
    id: `pool-${p}`,
    latitude: -40 + p * 9,
    longitude: -150 + p * 30,
    origin_steering: { policy },
    origins: Array.from({ length: Math.max(1, Math.floor(origins / 10)) }, (_, i) => ({
      name: `o-${p}-${i}`,
      address: `http://10.${p}.${(i >> 8) & 255}.${i & 255}:8080`,
      weight: 1 + (i % 3),
    })),
  }));
  return {
    pools,
    load_balancers: [
      {
        id: 'main',
        hostname: '*',
        default_pools: pools.map((p) => p.id),
        steering_policy: steering === '' ? 'off' : steering,
        region_pools: steering === 'geo' ? Object.fromEntries(REGIONS.map((r, i) => [r, [`pool-${i}`, `pool-${(i + 1) % 10}`]])) : {},
      },
    ],
  };
}

function compile(input: ConfigInput): Plan {
  const v = validateConfig(input);
  if (!v.ok) throw new Error(JSON.stringify(v.issues.slice(0, 3)));
  return new Plan(1, v.config, {}, new Set());
}

export function runMicro(sizes: number[], minMs: number): { decisions: MicroResult[]; snapshots: { origins: number; bytes: number; parseMs: number; compileMs: number }[] } {
  const decisions: MicroResult[] = [];
  const snapshots: { origins: number; bytes: number; parseMs: number; compileMs: number }[] = [];
  const facts: ClientFacts[] = Array.from({ length: 64 }, (_, i) => ({
    ip: `198.51.100.${i}`,
    country: 'DE',
    lat: -60 + ((i * 37) % 120),
    lon: -170 + ((i * 53) % 340),
    colo: 'FRA',
    region: REGIONS[i % REGIONS.length],
    source: 'simulation',
  }));
  for (const size of sizes) {
    const cases: [string, ConfigInput][] = [
      ...ORIGIN_POLICIES.map((policy): [string, ConfigInput] => [`origin ${policy}`, config(size, policy, '')]),
      ['pools geo', config(size, 'round_robin', 'geo')],
      ['pools proximity', config(size, 'round_robin', 'proximity')],
    ];
    for (const [name, input] of cases) {
      const plan = compile(input);
      const lb = plan.loadBalancerFor('bench.example')!;
      const passive = new PassiveHealth();
      let n = 0;
      const random = Math.random;
      const { nsPerOp, ops } = time(() => {
        const f = facts[n++ & 63]!;
        decide(plan, lb, { facts: f, pin: undefined, sessionKey: undefined, now: 1_000_000, random, inflight: () => 0, poolInflight: () => 0, passive });
      }, minMs);
      decisions.push({ name, origins: size, nsPerOp, ops });
    }
    // Snapshot load: parse the published JSON, validate-free compile into a Plan, first selection.
    const validated = validateConfig(config(size, 'round_robin', 'geo'));
    if (!validated.ok) throw new Error('bench config invalid');
    const text = JSON.stringify({ revision: 1, version: 1, config: validated.config, health: {}, withdrawn: [], affinitySecret: 'x', publishedAt: 0 });
    const t0 = performance.now();
    const parsed = JSON.parse(text) as { config: typeof validated.config };
    const t1 = performance.now();
    const plan = new Plan(1, parsed.config, {}, new Set());
    for (const pool of plan.pools.values()) pool.selection(new PassiveHealth(), 0);
    const t2 = performance.now();
    snapshots.push({ origins: size, bytes: text.length, parseMs: t1 - t0, compileMs: t2 - t1 });
  }
  return { decisions, snapshots };
}
