// The fields a condition can read (SPEC §9) and where each comes from in a request.

/**
 * What a condition can read of a request. The caller builds it, lazily if it likes
 * (getters): a compiled condition reads only the fields it names (`fields` of
 * compileCondition says which). `undefined` is Cloudflare's "missing value".
 */
export interface RequestView {
  /** http.host: the Host, as the request URL has it (lower-case). */
  host: string;
  /** http.request.method */
  method: string;
  /** http.request.uri: path and query, `/a/b?x=1`. */
  uri: string;
  /** http.request.uri.path */
  path: string;
  /** http.request.uri.query: without the `?`; empty when there is none. */
  query: string;
  /** http.request.full_uri: `https://host/path?query`. */
  fullUri: string;
  /** http.request.headers["name"]: the header's value; `name` is lower-case. */
  header(name: string): string | undefined;
  /** http.request.cookies["name"]: the value of the first cookie of that name. */
  cookie(name: string): string | undefined;
  /** http.cookie: the whole Cookie header, empty when there is none. */
  cookieHeader: string;
  /** ip.src: the client's address (the same as the steering facts'); not an address = missing. */
  ip: string;
  /** ip.src.country: ISO 3166-1 alpha-2, upper-case. */
  country: string | undefined;
  /** ip.src.continent: AF, AN, AS, EU, NA, OC or SA. */
  continent: string | undefined;
  /** cf.colo.name: the PoP's IATA code, upper-case. */
  colo: string | undefined;
  /** cf.load_balancer.name: the load balancer's hostname. */
  loadBalancer: string;
}

export type FieldType = 'string' | 'ip';

interface PlainField {
  type: FieldType;
  read(request: RequestView): string | undefined;
}

interface MapField {
  type: 'string';
  /** What the key names, for messages. */
  keyName: 'header' | 'cookie';
  read(request: RequestView, key: string): string | undefined;
}

const text = (read: PlainField['read']): PlainField => ({ type: 'string', read });
const keyed = (keyName: MapField['keyName'], read: MapField['read']): MapField => ({ type: 'string', keyName, read });

export const FIELDS = {
  'http.host': text((r) => r.host),
  'http.request.method': text((r) => r.method),
  'http.request.uri': text((r) => r.uri),
  'http.request.uri.path': text((r) => r.path),
  'http.request.uri.query': text((r) => r.query),
  'http.request.full_uri': text((r) => r.fullUri),
  'http.request.headers': keyed('header', (r, name) => r.header(name)),
  'http.request.cookies': keyed('cookie', (r, name) => r.cookie(name)),
  'http.cookie': text((r) => r.cookieHeader),
  'ip.src': { type: 'ip', read: (r: RequestView) => r.ip },
  'ip.src.country': text((r) => r.country),
  'ip.src.continent': text((r) => r.continent),
  'cf.colo.name': text((r) => r.colo),
  'cf.load_balancer.name': text((r) => r.loadBalancer),
} satisfies Record<string, PlainField | MapField>;

export type FieldName = keyof typeof FIELDS;

export type Field = PlainField | MapField;

export function fieldNamed(name: string): Field | undefined {
  return Object.hasOwn(FIELDS, name) ? FIELDS[name as FieldName] : undefined;
}

export function isMapField(field: Field): field is MapField {
  return 'keyName' in field;
}
