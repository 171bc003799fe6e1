import { MonitorSchema, type ConfigInput } from '../schema';
import { IdSpace, slug } from './ids';
import { boundedInteger, bounds, choices, headerMap, isOneOf, noteUnknownFields, type Context, type Json } from './notes';

// Cloudflare monitors to Switchyard's: http, https and tcp checks keep their settings
// within the schema's bounds; other types are left out, and the pools that use them
// lose their active health checks (with a note).

export type MonitorInput = NonNullable<ConfigInput['monitors']>[number];

/** The monitor types Switchyard checks, and the methods of its http(s) checks. */
const MONITOR_TYPES = choices(MonitorSchema.shape.type);
const METHODS = choices(MonitorSchema.shape.method);

const MONITOR_FIELDS = new Set([
  'type', 'method', 'path', 'header', 'port', 'timeout', 'retries', 'interval', 'expected_codes', 'expected_body',
  'follow_redirects', 'allow_insecure', 'probe_zone', 'consecutive_up', 'consecutive_down', 'description',
]);

/** The integer settings of a monitor, bounded as the schema bounds them. */
const MONITOR_NUMBERS = ['interval', 'timeout', 'retries', 'consecutive_up', 'consecutive_down'] as const;

export function importMonitor(raw: Json, path: string, position: number, ids: IdSpace, ctx: Context): MonitorInput | undefined {
  const { note, monitors: refs } = ctx;
  const cfId = typeof raw.id === 'string' ? raw.id : undefined;
  const label = typeof raw.description === 'string' && raw.description !== '' ? `"${raw.description}"` : `"${cfId ?? path}"`;
  // Cloudflare's default type is http, as Switchyard's.
  const type = raw.type ?? 'http';
  if (!isOneOf(type, MONITOR_TYPES)) {
    const reason = `${typeof type === 'string' ? type : 'unknown-type'} monitors are not supported`;
    note(`${path}.type`, `${JSON.stringify(type)} monitors are not supported (Switchyard checks ${MONITOR_TYPES.join(', ')}); monitor not imported`);
    if (cfId !== undefined) refs.set(cfId, { id: undefined, dropped: reason, label });
    return undefined;
  }

  const id = ids.take(slug(raw.description) ?? slug(`monitor-${cfId?.slice(0, 8) ?? position + 1}`) ?? `monitor-${position + 1}`);
  const monitor: MonitorInput = { id, type };
  const at = (field: string) => `${path}.${field}`;

  if (type !== 'tcp') {
    if (raw.method !== undefined && raw.method !== null) {
      const method = typeof raw.method === 'string' ? raw.method.toUpperCase() : raw.method;
      if (isOneOf(method, METHODS)) monitor.method = method;
      else note(at('method'), `method ${JSON.stringify(raw.method)} is not supported (${METHODS.join(' or ')}); ${MonitorSchema.shape.method.def.defaultValue} used`);
    }
    if (raw.path !== undefined && raw.path !== null) {
      if (typeof raw.path === 'string' && raw.path.startsWith('/')) monitor.path = raw.path;
      else note(at('path'), `expected a path starting with "/", got ${JSON.stringify(raw.path)}; "/" used`);
    }
    const header = headerMap(raw.header, at('header'), note);
    if (header !== undefined) monitor.header = header;
    if (raw.expected_codes !== undefined && raw.expected_codes !== null) {
      const codes = typeof raw.expected_codes === 'string' ? raw.expected_codes.replaceAll(' ', '').toLowerCase() : undefined;
      if (codes !== undefined && MonitorSchema.shape.expected_codes.safeParse(codes).success) monitor.expected_codes = codes;
      else note(at('expected_codes'), `${JSON.stringify(raw.expected_codes)} is not a status code pattern like "200" or "2xx"; "2xx" used`);
    }
    if (typeof raw.expected_body === 'string') monitor.expected_body = raw.expected_body;
    else if (raw.expected_body !== undefined && raw.expected_body !== null) note(at('expected_body'), 'expected a string; ignored');
    if (raw.follow_redirects === true) note(at('follow_redirects'), 'not supported: probes judge the first response and do not follow redirects');
    if (raw.allow_insecure === true) note(at('allow_insecure'), 'not supported: https probes always verify the certificate');
    if (typeof raw.probe_zone === 'string' && raw.probe_zone !== '') {
      note(at('probe_zone'), 'not supported: probes go straight to each origin; set a Host header to name the site');
    }
  }
  if (raw.port !== undefined && raw.port !== null && raw.port !== 0) {
    note(at('port'), `port ${JSON.stringify(raw.port)} is not supported: probes use each origin's own address and port`);
  }

  for (const field of MONITOR_NUMBERS) {
    let value = raw[field];
    // Cloudflare's 0 means "the first result decides", which is Switchyard's 1.
    if ((field === 'consecutive_up' || field === 'consecutive_down') && value === 0) value = 1;
    const { min, max } = bounds(MonitorSchema.shape[field]);
    const number = boundedInteger(value, min, max, at(field), note);
    if (number !== undefined) monitor[field] = number;
  }

  noteUnknownFields(raw, MONITOR_FIELDS, path, note);
  if (cfId !== undefined) refs.set(cfId, { id, label, type });
  return monitor;
}
