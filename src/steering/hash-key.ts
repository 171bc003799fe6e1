import type { HashKey } from '../config/schema';
import { fnv1a, FNV_OFFSET, mix32 } from './origin-pick';

// A hash pool's origin_steering.hash_key read from the request (SPEC §1, §9): the
// path, path and query, or one header, cookie or query parameter, hashed where it
// lies in the request's strings, without building a key string. The client IP is the
// caller's (it is hashed for affinity and load shedding too).

/**
 * The hash of the request's value for `key`; undefined when the key is the client IP,
 * or the request has no such value (no header, no cookie of that name, an empty one),
 * or only the client is known (no URL and headers: the dry run, the PoP map).
 */
export function requestKeyHash(key: HashKey, url: URL | undefined, headers: Headers | undefined): number | undefined {
  switch (key.kind) {
    case 'ip':
      return undefined;
    case 'path': {
      if (url === undefined) return undefined;
      const path = url.pathname;
      return mix32(fnv1a(path, 0, path.length, FNV_OFFSET));
    }
    case 'uri': {
      if (url === undefined) return undefined;
      const path = url.pathname;
      const search = url.search;
      return mix32(fnv1a(search, 0, search.length, fnv1a(path, 0, path.length, FNV_OFFSET)));
    }
    case 'header': {
      const value = headers?.get(key.name);
      return value === null || value === undefined || value === '' ? undefined : mix32(fnv1a(value, 0, value.length, FNV_OFFSET));
    }
    case 'cookie': {
      const cookie = headers?.get('cookie');
      return cookie === null || cookie === undefined ? undefined : pairHash(cookie, 0, key.name, ';');
    }
    case 'query': {
      const search = url?.search;
      return search === undefined || search === '' ? undefined : pairHash(search, 1, key.name, '&');
    }
  }
}

/**
 * The hash of the value of the first `name=value` pair in `text` from `from`, pairs
 * separated by `separator` (a Cookie header's "; ", a query's "&"); undefined when no
 * pair has that name or its value is empty. A cookie value in double quotes is hashed
 * without them; a query value as it was sent (still percent-encoded).
 */
function pairHash(text: string, from: number, name: string, separator: ';' | '&'): number | undefined {
  const length = text.length;
  let start = from;
  while (start < length) {
    while (start < length && isSpace(text.charCodeAt(start))) start++;
    let end = text.indexOf(separator, start);
    if (end < 0) end = length;
    if (text.startsWith(name, start) && text.charCodeAt(start + name.length) === 0x3d) {
      let first = start + name.length + 1;
      let last = end;
      while (last > first && isSpace(text.charCodeAt(last - 1))) last--;
      if (last - first >= 2 && text.charCodeAt(first) === 0x22 && text.charCodeAt(last - 1) === 0x22) {
        first++;
        last--;
      }
      return last > first ? mix32(fnv1a(text, first, last, FNV_OFFSET)) : undefined;
    }
    start = end + 1;
  }
  return undefined;
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** How the trace names a key: "header x-user", "path", "client IP". */
export function describeHashKey(key: HashKey): string {
  return key.kind === 'ip' ? 'client IP' : 'name' in key ? `${key.kind} ${key.name}` : key.kind;
}
