import { ID_PATTERN } from '../schema';

// Cloudflare ids (32 hex) become readable ids derived from names, unique within their kind.

/** A readable id: lower-case, accents dropped, anything outside [a-z0-9_-] turned into "-". */
export function slug(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  const out = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-_]+/, '')
    .slice(0, 64)
    .replace(/[-_]+$/, '');
  return ID_PATTERN.test(out) ? out : undefined;
}

/** Hands out ids unique within one namespace: "eu", then "eu-2", "eu-3". */
export class IdSpace {
  private readonly used = new Set<string>();

  take(base: string): string {
    let id = base;
    for (let n = 2; this.used.has(id); n++) {
      const suffix = `-${n}`;
      id = base.slice(0, 64 - suffix.length).replace(/[-_]+$/, '') + suffix;
    }
    this.used.add(id);
    return id;
  }
}
