import { describe, expect, it } from 'vitest';

import { nearestPop, popByColo } from '../../src/geo/anycast';
import { clientFacts, ipAddress } from '../../src/steering/facts';

const NONE: ReadonlySet<string> = new Set();
const FRANKFURT = { 'x-lb-sim-lat': '50.12', 'x-lb-sim-lon': '8.66' };

describe('clientFacts in simulation', () => {
  it('places a client near Frankfurt without a colo at FRA (WEU)', () => {
    const facts = clientFacts(new Headers({ ...FRANKFURT, 'x-lb-sim-ip': '203.0.113.9' }), undefined, true, NONE);
    expect(facts).toEqual({
      ip: '203.0.113.9',
      country: undefined,
      lat: 50.12,
      lon: 8.66,
      colo: 'FRA',
      region: 'WEU',
      source: 'simulation',
    });
  });

  it('moves the client to the next nearest PoP when FRA is withdrawn', () => {
    const withdrawn = new Set(['FRA']);
    const facts = clientFacts(new Headers(FRANKFURT), undefined, true, withdrawn);
    expect(facts.colo).not.toBe('FRA');
    expect(facts.colo).toBe(nearestPop(50.12, 8.66, withdrawn)!.colo);
    const pop = popByColo(facts.colo!)!;
    expect(['WEU', 'EEU']).toContain(pop.region);
    expect(facts.region).toBe(pop.region);
    // And back when FRA is restored.
    expect(clientFacts(new Headers(FRANKFURT), undefined, true, NONE).colo).toBe('FRA');
  });

  it('gives a client naming only country BR a Brazilian PoP', () => {
    const facts = clientFacts(new Headers({ 'x-lb-sim-country': 'br' }), undefined, true, NONE);
    expect(facts.country).toBe('BR');
    expect(facts.colo).toBeDefined();
    expect(popByColo(facts.colo!)!.country).toBe('BR');
    expect(['SSAM', 'NSAM']).toContain(facts.region);
  });

  it('uses a named colo as given, case-insensitively, and re-routes it when withdrawn', () => {
    const named = clientFacts(new Headers({ 'x-lb-sim-colo': 'gru' }), undefined, true, NONE);
    expect(named.colo).toBe('GRU');
    expect(named.region).toBe('SSAM');
    const rerouted = clientFacts(new Headers({ 'x-lb-sim-colo': 'GRU' }), undefined, true, new Set(['GRU']));
    expect(rerouted.colo).not.toBe('GRU');
    expect(rerouted.colo).toBe(nearestPop(-23.55, -46.63, new Set(['GRU']))!.colo);
  });

  it('prefers the simulated headers over request.cf, including the IP', () => {
    const headers = new Headers({ ...FRANKFURT, 'x-lb-sim-ip': '198.51.100.1', 'cf-connecting-ip': '192.0.2.1' });
    const facts = clientFacts(headers, { country: 'US', colo: 'EWR', latitude: '40.7', longitude: '-74.1' }, true, NONE);
    expect(facts.ip).toBe('198.51.100.1');
    expect(facts.colo).toBe('FRA');
    expect(facts.source).toBe('simulation');
  });

  it('ignores out-of-range or non-numeric simulated coordinates', () => {
    const facts = clientFacts(new Headers({ 'x-lb-sim-lat': '91', 'x-lb-sim-lon': 'east' }), { colo: 'NRT' }, true, NONE);
    expect(facts.source).toBe('cf');
    expect(facts.colo).toBe('NRT');
    expect(facts.lat).toBeUndefined();
  });
});

describe('clientFacts: a malformed simulation header is ignored, each on its own (SPEC §8)', () => {
  const cf = { country: 'JP', colo: 'NRT', latitude: '35.68', longitude: '139.69' };
  const real = { 'cf-connecting-ip': '192.0.2.1' };

  it.each([
    '1.2.3.4;proto=https, 6.6.6.6',
    '1.2.3.4, 6.6.6.6',
    '1.2.3.4:80',
    '[2001:db8::1]',
    '2001:db8::1%eth0',
    '2001:db8::1]:80',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3',
    '0x7f.0.0.1',
    '::ffff:1.2.3.4;for=evil',
    '1::2::3',
    'unknown',
    '',
    'evil"',
  ])('x-lb-sim-ip %j is not an address: the real client IP stays', (value) => {
    expect(ipAddress(value)).toBeUndefined();
    const facts = clientFacts(new Headers({ ...real, ...FRANKFURT, 'x-lb-sim-ip': value }), undefined, true, NONE);
    expect(facts.ip).toBe('192.0.2.1');
    // The other simulation headers still count.
    expect(facts.colo).toBe('FRA');
  });

  it.each(['203.0.113.9', '0.0.0.0', '255.255.255.255', '2001:db8::1', '::1', '::', '::ffff:1.2.3.4', 'FE80::ABCD'])(
    'x-lb-sim-ip %j is one address and is used',
    (value) => {
      expect(ipAddress(value)).toBe(value);
      expect(clientFacts(new Headers({ ...real, 'x-lb-sim-ip': value }), cf, true, NONE).ip).toBe(value);
    },
  );

  it('two x-lb-sim-ip headers are a list, not an address', () => {
    const headers = new Headers(real);
    headers.append('x-lb-sim-ip', '198.51.100.1');
    headers.append('x-lb-sim-ip', '198.51.100.2');
    expect(clientFacts(headers, cf, true, NONE).ip).toBe('192.0.2.1');
  });

  it.each(['ZZZ', 'XXX', 'FRANKFURT', 'FR', 'FRA;x', '123', ''])('x-lb-sim-colo %j is not in the PoP table: ignored', (colo) => {
    // Alone, it leaves request.cf in charge.
    const alone = clientFacts(new Headers({ 'x-lb-sim-colo': colo }), cf, true, NONE);
    expect(alone).toMatchObject({ colo: 'NRT', source: 'cf' });
    // Beside valid coordinates, the coordinates place the client.
    const placed = clientFacts(new Headers({ ...FRANKFURT, 'x-lb-sim-colo': colo }), cf, true, NONE);
    expect(placed).toMatchObject({ colo: 'FRA', region: 'WEU', source: 'simulation' });
  });

  it.each(['ZZ', 'XX', 'T1', 'USA', 'D', 'DE;', '', 'ÄÖ'])('x-lb-sim-country %j is not a known country code: ignored', (country) => {
    expect(clientFacts(new Headers({ 'x-lb-sim-country': country }), cf, true, NONE)).toMatchObject({ country: 'JP', colo: 'NRT', source: 'cf' });
    const withColo = clientFacts(new Headers({ 'x-lb-sim-country': country, 'x-lb-sim-colo': 'AMS' }), cf, true, NONE);
    expect(withColo).toMatchObject({ country: undefined, colo: 'AMS', region: 'WEU', source: 'simulation' });
  });

  it.each([
    ['91', '8'],
    ['-90.5', '8'],
    ['50', '180.01'],
    ['50', '-181'],
    ['0x10', '8'],
    ['1e1', '8'],
    ['50', 'Infinity'],
    ['NaN', '8'],
    ['50,1', '8'],
    [' ', '8'],
  ])('x-lb-sim-lat %j, x-lb-sim-lon %j: out of range or not a decimal number, ignored', (lat, lon) => {
    const facts = clientFacts(new Headers({ 'x-lb-sim-lat': lat, 'x-lb-sim-lon': lon, 'x-lb-sim-country': 'BR' }), cf, true, NONE);
    expect(facts.source).toBe('simulation');
    expect(facts.country).toBe('BR');
    // Placed by its country, not by the bad coordinate.
    expect(popByColo(facts.colo!)!.country).toBe('BR');
    expect(facts.lat === undefined || facts.lon === undefined).toBe(true);
  });

  it('accepts the edges of the ranges and signed decimals', () => {
    const facts = clientFacts(new Headers({ 'x-lb-sim-lat': '-90', 'x-lb-sim-lon': '+180.0' }), undefined, true, NONE);
    expect([facts.lat, facts.lon, facts.source]).toEqual([-90, 180, 'simulation']);
    expect(clientFacts(new Headers({ 'x-lb-sim-lat': '.5', 'x-lb-sim-lon': '-0.5' }), undefined, true, NONE).lat).toBe(0.5);
  });
});

describe('clientFacts from request.cf', () => {
  const cf = { country: 'us', colo: 'ewr', latitude: '40.73', longitude: '-74.17' };

  it('ignores x-lb-sim-* headers when simulation is off', () => {
    const headers = new Headers({ ...FRANKFURT, 'x-lb-sim-colo': 'FRA', 'x-lb-sim-country': 'DE', 'x-lb-sim-ip': '198.51.100.1', 'cf-connecting-ip': '192.0.2.1' });
    expect(clientFacts(headers, cf, false, NONE)).toEqual({
      ip: '192.0.2.1',
      country: 'US',
      lat: 40.73,
      lon: -74.17,
      colo: 'EWR',
      region: 'ENAM',
      source: 'cf',
    });
  });

  it('does not apply withdrawals to real traffic', () => {
    expect(clientFacts(new Headers(), cf, false, new Set(['EWR'])).colo).toBe('EWR');
  });

  it('takes the region from the PoP table, else from the country', () => {
    // DFW is in the US but Cloudflare puts Texas in WNAM.
    expect(clientFacts(new Headers(), { country: 'US', colo: 'DFW' }, false, NONE).region).toBe('WNAM');
    expect(clientFacts(new Headers(), { country: 'DE' }, false, NONE).region).toBe('WEU');
    expect(clientFacts(new Headers(), { country: 'JP', colo: 'XXX' }, false, NONE).region).toBe('NEAS');
  });

  it('falls back to request.cf in simulation when no location header is given', () => {
    const facts = clientFacts(new Headers({ 'x-lb-sim-ip': '198.51.100.1' }), cf, true, NONE);
    expect(facts.source).toBe('cf');
    expect(facts.ip).toBe('198.51.100.1');
    expect(facts.colo).toBe('EWR');
  });

  it('copes with no request.cf at all', () => {
    expect(clientFacts(new Headers(), undefined, false, NONE)).toEqual({
      ip: '',
      country: undefined,
      lat: undefined,
      lon: undefined,
      colo: undefined,
      region: undefined,
      source: 'cf',
    });
  });
});
