import { describe, expect, it } from 'vitest';

import { nearestPop, popByColo } from '../../src/geo/anycast';
import { clientFacts } from '../../src/steering/facts';

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
