import type { Pin } from './decide';

// The affinity token: "<lb>.<pool>.<origin>.<expires>.<signature>", where the ids can
// hold no dots and the signature is HMAC-SHA256 over everything before it
// (base64url). Forged, tampered, expired or foreign tokens verify as undefined.

export const AFFINITY_COOKIE = '__lb_affinity';

export async function importAffinityKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

/**
 * Tokens signed per key, by payload: every new session pinned to the same origin in
 * the same second gets the same token, so under load an origin costs one HMAC a
 * second, not one per new session. Bounded: emptied when full.
 */
const signed = new WeakMap<CryptoKey, Map<string, string>>();
const MAX_SIGNED = 1_000;

export function signAffinityToken(key: CryptoKey, lb: string, pin: Pin, expiresAtSec: number): string | Promise<string> {
  const payload = `${lb}.${pin.pool}.${pin.origin}.${expiresAtSec}`;
  // The same pin in the same second: the token signed for it then, without a promise.
  return signed.get(key)?.get(payload) ?? signNew(key, payload);
}

async function signNew(key: CryptoKey, payload: string): Promise<string> {
  const signature = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(payload));
  const token = `${payload}.${toBase64Url(new Uint8Array(signature))}`;
  let tokens = signed.get(key);
  if (tokens === undefined) signed.set(key, (tokens = new Map()));
  if (tokens.size >= MAX_SIGNED) tokens.clear();
  tokens.set(payload, token);
  return token;
}

/**
 * Tokens whose signature verified, per key, with what they name: a session sends the
 * same token with every request, and the HMAC is the costliest step of reading it.
 * Expiry is still checked each time. Bounded: emptied when full.
 */
const verified = new WeakMap<CryptoKey, Map<string, { lb: string; pin: Pin; expires: number }>>();
const MAX_VERIFIED = 10_000;

/**
 * The token's pin; undefined when it is forged, tampered, expired or foreign. A token
 * verified before comes back as a value (expiry still checked), a new one as a promise.
 */
export function verifyAffinityToken(key: CryptoKey, lb: string, token: string, nowSec: number): Pin | undefined | Promise<Pin | undefined> {
  const seen = verified.get(key)?.get(token);
  if (seen === undefined) return verifyNewToken(key, lb, token, nowSec);
  return seen.lb === lb && seen.expires > nowSec ? { ...seen.pin } : undefined;
}

async function verifyNewToken(key: CryptoKey, lb: string, token: string, nowSec: number): Promise<Pin | undefined> {
  let known = verified.get(key);
  const parts = token.split('.');
  if (parts.length !== 5) return undefined;
  const [tokenLb, pool, origin, expires, signature] = parts;
  if (tokenLb !== lb || !/^\d{1,12}$/.test(expires) || Number(expires) <= nowSec) return undefined;
  const bytes = fromBase64Url(signature);
  if (bytes === undefined) return undefined;
  const payload = new TextEncoder().encode(`${tokenLb}.${pool}.${origin}.${expires}`);
  if (!(await crypto.subtle.verify('HMAC', key, bytes, payload))) return undefined;
  if (known === undefined) verified.set(key, (known = new Map()));
  if (known.size >= MAX_VERIFIED) known.clear();
  known.set(token, { lb: tokenLb, pin: { pool, origin }, expires: Number(expires) });
  return { pool, origin };
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]{43}$/.test(text)) return undefined;
  const binary = atob(text.replaceAll('-', '+').replaceAll('_', '/') + '=');
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** The Cookie header without the affinity cookie (it is the balancer's, not the origin's). */
export function withoutCookie(header: string, name: string): string {
  return header
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '' && !part.startsWith(`${name}=`))
    .join('; ');
}
