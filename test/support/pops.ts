// Several PoPs with several isolates each, inside one workerd, for the PoP tier's tests
// (SPEC §5). Each simulated isolate is an IsolateSnapshots of its own (what a real
// isolate holds at module scope) and each PoP a named cache of its own (what
// caches.default is in one data centre); everything else is the Worker's: the
// ControlPlane, KV and the request path's steering. Time is a fake clock the test moves
// on: each step, every isolate serves requests, then the background refreshes those
// requests started run to their end. The claim's settling wait is real time.
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { IsolateSnapshots, type Loaded, type PopSite } from '../../src/control/snapshot-cache';
import type { Env } from '../../src/env';
import { steer } from '../../src/proxy/steer';

export interface FakeClock {
  now: number;
}

export interface SimulatedIsolate {
  colo: string;
  index: number;
  snapshots: IsolateSnapshots;
  /** When this isolate serves its first request (it is cold before). */
  startsAt: number;
}

/** The PoP's cache: a named cache per simulated PoP. */
export const popSite = (colo: string): PopSite => ({ cache: () => caches.open(`pop:${colo}`) });

/** A cache that keeps nothing, as the Cache API on workers.dev. */
export const unkeptSite: PopSite = {
  cache: async () =>
    ({
      match: async () => undefined,
      put: async () => undefined,
      delete: async () => false,
    }) as unknown as Cache,
};

export function isolates(colos: readonly string[], perPop: number, clock: FakeClock, startsAt: (colo: string, index: number) => number, site = popSite): SimulatedIsolate[] {
  return colos.flatMap((colo) =>
    Array.from({ length: perPop }, (_, index) => ({
      colo,
      index,
      snapshots: new IsolateSnapshots({ site: site(colo), clock: () => clock.now }),
      startsAt: startsAt(colo, index),
    })),
  );
}

/** The origins an isolate sends two new requests to (round robin moves on between them). */
export async function picks(loaded: Loaded): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < 2; i++) {
    const { decision } = await steer(new Request('http://app.test/'), loaded, false);
    names.push(decision.candidates[0]?.name ?? 'none');
  }
  return names;
}

/**
 * One step of the world at `clock.now`: every isolate that has started serves a request
 * (`serve` sees what it served with), then the background work those requests started
 * runs to its end.
 */
export async function step(world: readonly SimulatedIsolate[], env: Env, clock: FakeClock, serve: (isolate: SimulatedIsolate, loaded: Loaded) => Promise<void>): Promise<void> {
  const background: Promise<void>[] = [];
  for (const isolate of world) {
    if (clock.now < isolate.startsAt) continue;
    const ctx = createExecutionContext();
    const loaded = await isolate.snapshots.snapshot(env, ctx, isolate.colo, clock.now);
    await serve(isolate, loaded);
    background.push(waitOnExecutionContext(ctx));
  }
  await Promise.all(background);
}

/** A DO refresh as the test saw it: which PoP asked, at what time of the fake clock. */
export interface RefreshCall {
  colo: string;
  at: number;
  /** The revision the PoP said it holds (-1: no snapshot). */
  have: number;
}

/**
 * The env an isolate sees, with every ControlPlane.refresh recorded at the fake clock's
 * time; `unreachable` makes each of them fail as an unreachable Durable Object does.
 */
export function recordingEnv(base: Env, clock: FakeClock, calls: RefreshCall[], { unreachable = false } = {}): Env {
  const stubOf = (stub: DurableObjectStub) =>
    new Proxy(stub, {
      get(target, prop) {
        if (prop === 'refresh') {
          return (colo: string, have: number) => {
            calls.push({ colo, at: clock.now, have });
            if (unreachable) return Promise.reject(new Error('Durable Object unreachable'));
            return (target as unknown as { refresh(colo: string, have: number): Promise<unknown> }).refresh(colo, have);
          };
        }
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  const control = new Proxy(base.CONTROL, {
    get(target, prop) {
      if (prop === 'get') return (id: DurableObjectId) => stubOf(target.get(id) as unknown as DurableObjectStub);
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { ...base, CONTROL: control } as Env;
}

/** The largest number of calls of one PoP inside any window of `windowMs` (half-open). */
export function mostPerWindow(calls: readonly RefreshCall[], colo: string, windowMs: number): number {
  const times = calls.filter((c) => c.colo === colo).map((c) => c.at).sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i] - times[j] >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}
