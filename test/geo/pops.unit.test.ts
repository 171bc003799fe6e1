import { describe, expect, it } from 'vitest';

import { homePop, nearestPop } from '../../src/geo/anycast';
import { distanceKm } from '../../src/geo/distance';
import { POPS } from '../../src/geo/pops';
import { mulberry32 } from '../support/random';
import { isRegion, REGIONS, regionOfCountry } from '../../src/geo/regions';
import { ISO_3166_1_ALPHA_2 } from '../support/iso-countries';


describe('regionOfCountry', () => {
  it('maps every ISO 3166-1 alpha-2 country to a region', () => {
    expect(ISO_3166_1_ALPHA_2).toHaveLength(249);
    const unmapped = ISO_3166_1_ALPHA_2.filter((code) => regionOfCountry(code) === undefined);
    expect(unmapped).toEqual([]);
  });

  it("follows Cloudflare's region table", () => {
    expect(regionOfCountry('BR')).toBe('SSAM');
    expect(regionOfCountry('CO')).toBe('NSAM');
    expect(regionOfCountry('AR')).toBe('SSAM');
    expect(regionOfCountry('DE')).toBe('WEU');
    expect(regionOfCountry('GB')).toBe('WEU');
    expect(regionOfCountry('PL')).toBe('EEU');
    expect(regionOfCountry('JP')).toBe('NEAS');
    expect(regionOfCountry('ZA')).toBe('SAF');
    expect(regionOfCountry('AU')).toBe('OC');
    expect(regionOfCountry('IN')).toBe('SAS');
    expect(regionOfCountry('SG')).toBe('SEAS');
    expect(regionOfCountry('EG')).toBe('NAF');
    expect(regionOfCountry('AE')).toBe('ME');
    expect(regionOfCountry('MX')).toBe('WNAM');
    expect(regionOfCountry('US')).toBe('ENAM');
    expect(regionOfCountry('CA')).toBe('ENAM');
  });

  it('is case-insensitive', () => {
    expect(regionOfCountry('de')).toBe('WEU');
    expect(regionOfCountry('Jp')).toBe('NEAS');
  });

  it('returns undefined for unknown codes', () => {
    expect(regionOfCountry('ZZ')).toBeUndefined();
    expect(regionOfCountry('')).toBeUndefined();
    expect(regionOfCountry('DEU')).toBeUndefined();
  });
});

describe('isRegion', () => {
  it('accepts the 13 region codes and nothing else', () => {
    expect(REGIONS).toHaveLength(13);
    for (const region of REGIONS) expect(isRegion(region)).toBe(true);
    expect(isRegion('EU')).toBe(false);
    expect(isRegion('weu')).toBe(false);
  });
});

describe('POPS', () => {
  it('has at least 90 PoPs', () => {
    expect(POPS.length).toBeGreaterThanOrEqual(90);
  });

  it('has unique, upper-case three-letter colo codes', () => {
    const colos = POPS.map((pop) => pop.colo);
    for (const colo of colos) expect(colo).toMatch(/^[A-Z]{3}$/);
    expect(new Set(colos).size).toBe(colos.length);
  });

  it('has coordinates within range', () => {
    for (const pop of POPS) {
      expect(pop.lat, pop.colo).toBeGreaterThanOrEqual(-90);
      expect(pop.lat, pop.colo).toBeLessThanOrEqual(90);
      expect(pop.lon, pop.colo).toBeGreaterThanOrEqual(-180);
      expect(pop.lon, pop.colo).toBeLessThanOrEqual(180);
    }
  });

  it('has at least 2 PoPs in every region', () => {
    for (const region of REGIONS) {
      const count = POPS.filter((pop) => pop.region === region).length;
      expect(count, region).toBeGreaterThanOrEqual(2);
    }
  });

  it('uses only countries known to regionOfCountry', () => {
    for (const pop of POPS) {
      expect(pop.country, pop.colo).toMatch(/^[A-Z]{2}$/);
      expect(regionOfCountry(pop.country), pop.colo).toBeDefined();
      expect(isRegion(pop.region), pop.colo).toBe(true);
    }
  });

  it("gives each PoP its country's region except in countries Cloudflare splits", () => {
    const split = new Set(['US', 'CA', 'BR', 'DE', 'IT']);
    for (const pop of POPS) {
      if (!split.has(pop.country)) expect(pop.region, pop.colo).toBe(regionOfCountry(pop.country));
    }
  });

  it('places well-known PoPs correctly', () => {
    const byColo = new Map(POPS.map((pop) => [pop.colo, pop]));
    const fra = byColo.get('FRA');
    expect(fra).toMatchObject({ city: 'Frankfurt', country: 'DE', region: 'WEU' });
    expect(fra?.lat).toBeCloseTo(50.1, 1);
    expect(fra?.lon).toBeCloseTo(8.7, 1);
    const syd = byColo.get('SYD');
    expect(syd).toMatchObject({ city: 'Sydney', country: 'AU', region: 'OC' });
    expect(syd?.lat).toBeCloseTo(-33.9, 1);
    expect(syd?.lon).toBeCloseTo(151.2, 1);
    expect(byColo.get('LAX')?.region).toBe('WNAM');
    expect(byColo.get('IAD')?.region).toBe('ENAM');
    expect(byColo.get('GRU')?.region).toBe('SSAM');
  });
});

describe('nearestPop', () => {
  it('finds the PoP with the shortest great-circle distance, skipping withdrawn ones', () => {
    const random = mulberry32(7);
    for (let i = 0; i < 500; i++) {
      const lat = random() * 180 - 90;
      const lon = random() * 360 - 180;
      const withdrawn = new Set(i % 5 === 0 ? [POPS[Math.floor(random() * POPS.length)]!.colo] : []);
      const brute = POPS.filter((p) => !withdrawn.has(p.colo)).reduce((best, p) =>
        distanceKm(lat, lon, p.lat, p.lon) < distanceKm(lat, lon, best.lat, best.lon) ? p : best,
      );
      expect(distanceKm(lat, lon, nearestPop(lat, lon, withdrawn)!.lat, nearestPop(lat, lon, withdrawn)!.lon)).toBeCloseTo(
        distanceKm(lat, lon, brute.lat, brute.lon),
        6,
      );
    }
    expect(nearestPop(0, 0, new Set(POPS.map((p) => p.colo)))).toBeUndefined();
  });

  it('homePop is the first PoP of the country in its own region', () => {
    expect(homePop('br')?.colo).toBe('GRU');
    expect(homePop('BR')).toBe(homePop('br'));
    expect(homePop('ZZ')).toBeUndefined();
  });
});
