// What a configuration may put in a header (SPEC §1): names are RFC 9110 tokens,
// values hold no CR, LF or NUL, and request_headers cannot touch the fields the proxy
// contract and the loop guard own. The proxy takes its hop-by-hop list from here too.

/** RFC 9110 token: the characters a field name may have. */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A value the runtime can send: no CR, LF or NUL (header injection, or a TypeError on every request). */
export const HEADER_VALUE = /^[^\r\n\0]*$/;

/** Fields that apply to one connection only (RFC 9110 §7.6.1), plus the proxy's own credentials. */
export const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'trailer'] as const;

const RESERVED_EXACT = new Set<string>(['host', 'via', 'cdn-loop', 'forwarded', ...HOP_BY_HOP, 'proxy-authenticate']);

/** May request_headers set this field? Host, Via, CDN-Loop, Forwarded, X-Forwarded-*, x-lb-* and hop-by-hop fields are the balancer's. */
export function isReservedRequestHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return RESERVED_EXACT.has(lower) || lower.startsWith('x-forwarded-') || lower.startsWith('x-lb-');
}

/** A Host value: a DNS name, an IPv4 address or a bracketed IPv6 one, with an optional port. */
export const HOST_VALUE = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;
