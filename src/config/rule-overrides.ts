import { z } from 'zod';
import { BINDING_NAME, originSteering, parseHashKey } from './pool-schema';

// Switchyard's own rule overrides (SPEC §9, "(ext)"): origin steering for the pools a
// matching request goes to, a rate limit through a Workers Rate Limiting binding, and
// redirect steering. Cloudflare's rules have none of them.

/** What a rate limit counts a request under: the client IP, the path, or one header or cookie. */
export type RateLimitKey = { readonly kind: 'ip' | 'path' } | { readonly kind: 'header' | 'cookie'; readonly name: string };

/** "ip", "path", "header:<name>" or "cookie:<name>"; else undefined. */
export function parseRateLimitKey(value: string): RateLimitKey | undefined {
  const key = parseHashKey(value);
  return key !== undefined && (key.kind === 'ip' || key.kind === 'path' || key.kind === 'header' || key.kind === 'cookie') ? (key as RateLimitKey) : undefined;
}

export const REDIRECT_STATUSES = [301, 302, 303, 307, 308] as const;

export const ruleExtensions = {
  origin_steering: originSteering.optional(),
  rate_limit: z
    .strictObject({
      binding: z.string().min(1).regex(BINDING_NAME, 'must be the name of a [[ratelimits]] binding of wrangler.toml (letters, digits, _)'),
      key: z
        .string()
        .max(256)
        .refine((value) => parseRateLimitKey(value) !== undefined, { message: 'must be ip, path, or header: or cookie: followed by a name (an RFC 9110 token)' })
        .default('ip'),
      period: z
        .literal([10, 60], { error: "must be 10 or 60: the binding's period in wrangler.toml" })
        .default(60)
        .meta({ description: "the binding's period in seconds, as wrangler.toml declares it (10 or 60): what Retry-After says" }),
    })
    .optional(),
  redirect: z
    .strictObject({ status_code: z.literal(REDIRECT_STATUSES).default(307) })
    .optional()
    .meta({ description: "answer with a redirect to the chosen origin's public_url and the request's path and query, instead of proxying" }),
};
