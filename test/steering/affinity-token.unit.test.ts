import { beforeAll, describe, expect, it, vi } from 'vitest';

import { importAffinityKey, signAffinityToken, verifyAffinityToken, withoutCookie } from '../../src/steering/affinity-token';
import { mulberry32 } from '../support/random';

const NOW = 1_700_000_000;
const PIN = { pool: 'eu', origin: 'backend1' };

let key: CryptoKey;
let otherKey: CryptoKey;
let token: string;

beforeAll(async () => {
  key = await importAffinityKey('test-secret');
  otherKey = await importAffinityKey('another-secret');
  token = await signAffinityToken(key, 'main', PIN, NOW + 3600);
});

function randomBase64Url(length: number, seed: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const random = mulberry32(seed);
  return Array.from({ length }, () => alphabet[Math.floor(random() * 64)]).join('');
}

describe('affinity token', () => {
  it('round-trips: a signed token verifies to its pin until it expires', async () => {
    expect(token.startsWith('main.eu.backend1.1700003600.')).toBe(true);
    expect(token.split('.').at(-1)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await verifyAffinityToken(key, 'main', token, NOW)).toEqual(PIN);
    expect(await verifyAffinityToken(key, 'main', token, NOW + 3599)).toEqual(PIN);
  });

  it('rejects a tampered payload (origin name changed)', async () => {
    const tampered = token.replace('.backend1.', '.backend2.');
    expect(tampered).not.toBe(token);
    expect(await verifyAffinityToken(key, 'main', tampered, NOW)).toBeUndefined();
  });

  it('rejects a tampered expiry', async () => {
    const extended = token.replace('.1700003600.', '.1800003600.');
    expect(await verifyAffinityToken(key, 'main', extended, NOW)).toBeUndefined();
  });

  it('rejects forged signatures (random 43-char base64url)', async () => {
    const payload = token.slice(0, token.lastIndexOf('.'));
    for (let seed = 1; seed <= 20; seed++) {
      const forged = `${payload}.${randomBase64Url(43, seed)}`;
      expect(await verifyAffinityToken(key, 'main', forged, NOW)).toBeUndefined();
    }
  });

  it('rejects a token signed with another key', async () => {
    const foreign = await signAffinityToken(otherKey, 'main', PIN, NOW + 3600);
    expect(await verifyAffinityToken(otherKey, 'main', foreign, NOW)).toEqual(PIN);
    expect(await verifyAffinityToken(key, 'main', foreign, NOW)).toBeUndefined();
  });

  it('rejects a token for another load balancer', async () => {
    const forOther = await signAffinityToken(key, 'other', PIN, NOW + 3600);
    expect(await verifyAffinityToken(key, 'other', forOther, NOW)).toEqual(PIN);
    expect(await verifyAffinityToken(key, 'main', forOther, NOW)).toBeUndefined();
    expect(await verifyAffinityToken(key, 'other', token, NOW)).toBeUndefined();
  });

  it('rejects an expired token (at and after its expiry)', async () => {
    expect(await verifyAffinityToken(key, 'main', token, NOW + 3600)).toBeUndefined();
    expect(await verifyAffinityToken(key, 'main', token, NOW + 7200)).toBeUndefined();
    const old = await signAffinityToken(key, 'main', PIN, NOW - 1);
    expect(await verifyAffinityToken(key, 'main', old, NOW)).toBeUndefined();
  });

  it.each([
    '',
    'garbage',
    'main',
    'main.eu.backend1',
    'main.eu.backend1.1700003600',
    'main.eu.backend1.1700003600.',
    'main.eu.backend1.soon.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    'main.eu.backend1.1700003600.not base64!',
    'main.eu.backend1.1700003600.AAAA',
    'main.eu.back.end1.1700003600.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    '....',
  ])('rejects garbage %j', async (garbage) => {
    expect(await verifyAffinityToken(key, 'main', garbage, NOW)).toBeUndefined();
  });

  it('rejects the valid token with anything appended or a signature of the wrong length', async () => {
    expect(await verifyAffinityToken(key, 'main', `${token}A`, NOW)).toBeUndefined();
    expect(await verifyAffinityToken(key, 'main', `${token}.x`, NOW)).toBeUndefined();
    expect(await verifyAffinityToken(key, 'main', token.slice(0, -1), NOW)).toBeUndefined();
  });
});

describe('verified-token cache', () => {
  it('checks a signature once per token, the expiry every time, and never caches a forgery', async () => {
    const key = await importAffinityKey('cache-secret');
    const other = await importAffinityKey('another-secret');
    const token = await signAffinityToken(key, 'main', { pool: 'p', origin: 'o' }, 2_000);
    const verify = vi.spyOn(crypto.subtle, 'verify');
    try {
      expect(await verifyAffinityToken(key, 'main', token, 1_000)).toEqual({ pool: 'p', origin: 'o' });
      expect(await verifyAffinityToken(key, 'main', token, 1_500)).toEqual({ pool: 'p', origin: 'o' });
      expect(verify).toHaveBeenCalledTimes(1);
      // Still expires, cached or not.
      expect(await verifyAffinityToken(key, 'main', token, 2_000)).toBeUndefined();
      // The cache belongs to the key: another key verifies (and rejects) it afresh.
      expect(await verifyAffinityToken(other, 'main', token, 1_000)).toBeUndefined();
      expect(await verifyAffinityToken(other, 'main', token, 1_000)).toBeUndefined();
      expect(verify).toHaveBeenCalledTimes(3);
    } finally {
      verify.mockRestore();
    }
  });

describe('signed-token cache', () => {
  it('signs a payload once per key: same origin and expiry share a token, anything else is signed afresh', async () => {
    const key = await importAffinityKey('sign-cache-secret');
    const other = await importAffinityKey('another-sign-secret');
    const sign = vi.spyOn(crypto.subtle, 'sign');
    try {
      const first = await signAffinityToken(key, 'main', { pool: 'p', origin: 'o' }, 5_000);
      expect(await signAffinityToken(key, 'main', { pool: 'p', origin: 'o' }, 5_000)).toBe(first);
      expect(sign).toHaveBeenCalledTimes(1);
      const later = await signAffinityToken(key, 'main', { pool: 'p', origin: 'o' }, 5_001);
      const elsewhere = await signAffinityToken(key, 'main', { pool: 'p', origin: 'q' }, 5_000);
      const otherKey = await signAffinityToken(other, 'main', { pool: 'p', origin: 'o' }, 5_000);
      expect(sign).toHaveBeenCalledTimes(4);
      expect(new Set([first, later, elsewhere, otherKey]).size).toBe(4);
      // A cached token is as valid as a fresh one, and only under its own key.
      expect(await verifyAffinityToken(key, 'main', first, 4_000)).toEqual({ pool: 'p', origin: 'o' });
      expect(await verifyAffinityToken(other, 'main', first, 4_000)).toBeUndefined();
    } finally {
      sign.mockRestore();
    }
  });
});
});

describe('withoutCookie', () => {
  it('removes only the named cookie', () => {
    expect(withoutCookie('a=1; __lb_affinity=tok; b=2', '__lb_affinity')).toBe('a=1; b=2');
    expect(withoutCookie('__lb_affinity=tok', '__lb_affinity')).toBe('');
    expect(withoutCookie('x__lb_affinity=1;__lb_affinity_other=2', '__lb_affinity')).toBe('x__lb_affinity=1; __lb_affinity_other=2');
  });
});
