import { statusClass } from './traffic';

// One Workers Analytics Engine data point per client request (README, Stats and
// metrics: per-request analytics), pure. The live counters answer "how much, now"
// exactly; these points keep each request's host, country, PoP, pool, origin and
// timing for three months, for questions the counters cannot hold the dimensions of.
// Writing one is a call into the runtime with no I/O on the request path.

/** A client request as the proxy finished it. */
export interface ServedRequest {
  loadBalancer: string;
  host: string;
  method: string;
  /** The pool and origin that answered; undefined when none did. */
  pool: string | undefined;
  origin: string | undefined;
  pop: string | undefined;
  country: string | undefined;
  status: number;
  attempts: number;
  /** From the request's arrival to the response's headers. */
  ms: number;
}

/** The data point's blobs, in order (blob1 … blob8 in SQL). */
export const REQUEST_BLOBS = ['host', 'load_balancer', 'pool', 'origin', 'pop', 'country', 'method', 'status_class'] as const;
/** The data point's doubles, in order (double1 … double4 in SQL); `weight` is 1 / ANALYTICS_SAMPLE_RATE. */
export const REQUEST_DOUBLES = ['status', 'ms', 'attempts', 'weight'] as const;

/**
 * The request's data point, or undefined when the sample leaves it out: `rate` is the
 * share of requests written (0 < rate <= 1) and `draw` a number in [0, 1). Each point
 * carries its weight, so SUM(_sample_interval * double4) still counts every request.
 * The index (Analytics Engine's sampling key) is the load balancer.
 */
export function requestPoint(request: ServedRequest, rate: number, draw: number): AnalyticsEngineDataPoint | undefined {
  if (rate < 1 && draw >= rate) return undefined;
  return {
    indexes: [request.loadBalancer],
    blobs: [
      request.host,
      request.loadBalancer,
      request.pool ?? '',
      request.origin ?? '',
      request.pop ?? '',
      request.country ?? '',
      request.method,
      statusClass(request.status),
    ],
    doubles: [request.status, request.ms, request.attempts, 1 / rate],
  };
}
