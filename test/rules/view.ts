import type { RequestView } from '../../src/rules/condition';

export interface ViewInput extends Partial<Omit<RequestView, 'header' | 'cookie' | 'cookieHeader'>> {
  url?: string;
  headers?: Record<string, string>;
}

/** A RequestView over a URL and a few headers, the way the request path would build one. */
export function view(input: ViewInput = {}): RequestView {
  const { url: address = 'https://shop.example.com/api/search?q=shoes', headers: fields = {}, ...facts } = input;
  const url = new URL(address);
  // A map, not Headers: tests put any text in a value, which Node's Headers refuses.
  const headers = new Map(Object.entries(fields).map(([name, value]) => [name.toLowerCase(), value]));
  const cookieHeader = headers.get('cookie') ?? '';
  const cookies = new Map<string, string>();
  for (const pair of cookieHeader.split(';')) {
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    if (eq > 0 && !cookies.has(name)) cookies.set(name, pair.slice(eq + 1).trim());
  }
  return {
    host: url.hostname,
    method: 'GET',
    uri: url.pathname + url.search,
    path: url.pathname,
    query: url.search.slice(1),
    fullUri: url.href,
    header: (name) => headers.get(name),
    cookie: (name) => cookies.get(name),
    cookieHeader,
    ip: '203.0.113.7',
    country: 'DE',
    continent: 'EU',
    colo: 'FRA',
    loadBalancer: 'shop.example.com',
    ...facts,
  };
}
