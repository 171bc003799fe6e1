// Small builders for unit tests of the steering core: valid configurations, compiled
// plans, client facts and steering requests with deterministic defaults.

import type { Config, ConfigInput } from '../../src/config/schema';
import { validateConfig } from '../../src/config/validate';
import { PassiveHealth } from '../../src/health/passive';
import type { SteeringRequest } from '../../src/steering/decide';
import type { ClientFacts } from '../../src/steering/facts';
import type { HealthMap } from '../../src/health/state';
import { Plan, type CompiledLoadBalancer } from '../../src/steering/plan';
import { mulberry32 } from './random';

type OriginInput = NonNullable<ConfigInput['pools']>[number]['origins'][number];
type PoolInput = NonNullable<ConfigInput['pools']>[number];
type LoadBalancerInput = NonNullable<ConfigInput['load_balancers']>[number];

/** Validates a document and returns the config with defaults filled; throws with the issues otherwise. */
export function validConfig(input: ConfigInput): Config {
  const result = validateConfig(input);
  if (!result.ok) throw new Error(`config is invalid: ${JSON.stringify(result.issues)}`);
  return result.config;
}

export function origin(name: string, extra: Partial<OriginInput> = {}): OriginInput {
  return { name, address: `http://${name}.internal:8080`, ...extra };
}

/** A pool; `origins` may be names (plain origins) or origin objects. */
export function pool(id: string, origins: readonly (string | OriginInput)[], extra: Partial<PoolInput> = {}): PoolInput {
  return { id, origins: origins.map((o) => (typeof o === 'string' ? origin(o) : o)), ...extra };
}

export function loadBalancer(extra: Partial<LoadBalancerInput> & Pick<LoadBalancerInput, 'default_pools'>): LoadBalancerInput {
  return { id: 'main', hostname: '*', ...extra };
}

/** A monitor for pools whose origins take their health from the health map. */
export const MONITOR = { id: 'mon' } as const;

export function compile(config: Config, health: HealthMap = {}, withdrawn: ReadonlySet<string> = new Set()): Plan {
  return new Plan(1, config, health, withdrawn);
}

/** Compiles a document and returns the plan with the load balancer serving `host`. */
export function planFor(
  input: ConfigInput,
  health: HealthMap = {},
  host = 'app.example.com',
): { plan: Plan; lb: CompiledLoadBalancer; config: Config } {
  const config = validConfig(input);
  const plan = compile(config, health);
  const lb = plan.loadBalancerFor(host);
  if (lb === undefined) throw new Error(`no load balancer for ${host}`);
  return { plan, lb, config };
}

export function facts(extra: Partial<ClientFacts> = {}): ClientFacts {
  return {
    ip: '192.0.2.1',
    country: undefined,
    lat: undefined,
    lon: undefined,
    colo: undefined,
    region: undefined,
    source: 'simulation',
    ...extra,
  };
}

/** A steering request with deterministic defaults: no pin, now = 1,000,000 ms, seeded random, nothing in flight. */
export function request(extra: Partial<SteeringRequest> = {}): SteeringRequest {
  return {
    facts: facts(),
    pin: undefined,
    sessionKey: undefined,
    now: 1_000_000,
    random: mulberry32(1),
    inflight: () => 0,
    poolInflight: () => 0,
    passive: new PassiveHealth(),
    ...extra,
  };
}
