import { z } from 'zod';
import { HEADER_NAME, HEADER_VALUE, HOST_VALUE } from './header-rules';

// Field schemas that monitors, pools and load balancers share.

export const ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export const id = z.string().regex(ID_PATTERN, 'must match ^[a-z0-9][a-z0-9_-]{0,63}$');
export const headerName = z.string().regex(HEADER_NAME, 'must be a header name (an RFC 9110 token)');
export const headerValue = z.string().regex(HEADER_VALUE, 'a header value may not hold CR, LF or NUL');
/** A record keyed by header names; each bad name is reported at its own path (zod would say only "Invalid key in record"). */
export function headerRecord<V extends z.ZodType>(value: V, reserved?: (name: string) => boolean) {
  return z.record(z.string(), value).superRefine((record, ctx) => {
    for (const name of Object.keys(record)) {
      if (!HEADER_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'must be a header name (an RFC 9110 token)' });
      else if (reserved?.(name)) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: 'is set by the proxy itself (Host, Via, CDN-Loop, Forwarded, X-Forwarded-*, x-lb-* and hop-by-hop fields cannot be overridden)',
        });
      }
    }
  });
}
/** Header lists, where a Host must be a host[:port] (it becomes the URL's host: SPEC §10). */
export const headerMap = headerRecord(z.array(headerValue)).superRefine((record, ctx) => {
  for (const [name, values] of Object.entries(record)) {
    if (name.toLowerCase() !== 'host') continue;
    values.forEach((value, index) => {
      if (!HOST_VALUE.test(value)) ctx.addIssue({ code: 'custom', path: [name, index], message: 'a Host must be a host name or address with an optional port' });
    });
  }
});
export const latitude = z.number().min(-90).max(90);
export const longitude = z.number().min(-180).max(180);
