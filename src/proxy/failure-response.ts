// Switchyard's own answer when every attempt failed (SPEC §2.10, §8).
import type { LoadBalancer } from '../config/schema';
import { edgeReason } from '../edge/subrequest';
import { errorResponse } from '../errors';
import type { Attempt } from './attempt';

/**
 * Switchyard's own answer when no attempt gave a response to pass on: 504 when every
 * attempt timed out, else 502. The message names pools and origins only where
 * expose_headers allows, and never addresses or runtime text: those go to the log.
 */
export function failureResponse(attempts: readonly Attempt[], lb: LoadBalancer): Response {
  console.warn(`every attempt failed: ${attempts.map((a) => `${a.origin.key} ${a.outcome}${a.status === undefined ? '' : ` ${a.status}`}: ${a.detail ?? ''}`).join('; ')}`);
  const allTimedOut = attempts.every((a) => a.outcome === 'timeout' || a.status === 524);
  const summary = lb.expose_headers ? ` (${attempts.map((a) => `${a.origin.key}: ${describeOutcome(a)}`).join('; ')})` : ` (${attempts.length} attempt${attempts.length === 1 ? '' : 's'})`;
  if (attempts.length > 0 && attempts.every((a) => a.outcome === 'internal')) {
    return errorResponse(502, 'upstream_error', 'the request could not be sent upstream');
  }
  return allTimedOut
    ? errorResponse(504, 'upstream_timeout', `every attempt timed out${summary}`)
    : errorResponse(502, 'upstream_error', `every attempt failed${summary}`);
}

function describeOutcome(attempt: Attempt): string {
  switch (attempt.outcome) {
    case 'connect-failure':
      return attempt.status === 403 ? 'refused by the edge (an IP-literal address)' : attempt.status === undefined ? 'connection failed' : (edgeReason(attempt.status) ?? `connection failed (${attempt.status})`);
    case 'network':
      return 'connection failed';
    case 'timeout':
      return 'timed out';
    case 'internal':
      return 'not sent';
    default:
      return attempt.status === undefined ? 'failed' : (edgeReason(attempt.status) ?? `status ${attempt.status}`);
  }
}
