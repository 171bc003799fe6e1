import { dynamicLatency } from './dynamic-latency';
import { geo } from './geo';
import { leastOutstanding } from './least-outstanding';
import { off } from './off';
import type { PoolPolicy, ResolvedSteeringPolicy } from './pool-policy';
import { proximity } from './proximity';
import { random } from './random';

export type { PoolOrder, PoolPolicy, ResolvedSteeringPolicy } from './pool-policy';

/** The pool steering policies of SPEC §2.7, by resolved name. */
export const POOL_POLICIES: Readonly<Record<ResolvedSteeringPolicy, PoolPolicy>> = {
  off,
  geo,
  random,
  least_outstanding_requests: leastOutstanding,
  proximity,
  dynamic_latency: dynamicLatency,
};
