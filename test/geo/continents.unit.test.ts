import { describe, expect, it } from 'vitest';

import { CITIES } from '../../src/geo/cities';
import { continentOf } from '../../src/geo/continents';
import { ISO_3166_1_ALPHA_2 } from '../support/iso-countries';


const CONTINENTS = ['AF', 'AN', 'AS', 'EU', 'NA', 'OC', 'SA'];

describe('continentOf', () => {
  it('gives the continent Cloudflare reports for well-known countries', () => {
    const sample: Record<string, string> = {
      US: 'NA', CA: 'NA', MX: 'NA', PA: 'NA', JM: 'NA', GL: 'NA',
      BR: 'SA', AR: 'SA', CO: 'SA', FK: 'SA',
      DE: 'EU', FR: 'EU', GB: 'EU', RU: 'EU', UA: 'EU', CY: 'EU', XK: 'EU',
      JP: 'AS', CN: 'AS', IN: 'AS', SG: 'AS', AE: 'AS', IL: 'AS', TR: 'AS', GE: 'AS', KZ: 'AS',
      EG: 'AF', NG: 'AF', ZA: 'AF', KE: 'AF', MA: 'AF', RE: 'AF',
      AU: 'OC', NZ: 'OC', FJ: 'OC', GU: 'OC', TL: 'OC',
      AQ: 'AN', TF: 'AN', BV: 'AN',
    };
    for (const [country, continent] of Object.entries(sample)) expect(continentOf(country), country).toBe(continent);
  });

  it('knows every ISO 3166-1 country code, each on one of the seven continents', () => {
    expect(ISO_3166_1_ALPHA_2).toHaveLength(249);
    const missing = ISO_3166_1_ALPHA_2.filter((country) => !CONTINENTS.includes(continentOf(country) ?? ''));
    expect(missing).toEqual([]);
  });

  it('has a continent for every country of the simulated world (src/geo/cities.ts)', () => {
    const missing = [...new Set(CITIES.map((city) => city.country))].filter((country) => continentOf(country) === undefined);
    expect(missing).toEqual([]);
  });

  it('gives Tor (T1) its own code and nothing for unknown, absent or lower-case codes', () => {
    expect(continentOf('T1')).toBe('T1');
    for (const country of ['XX', undefined, '', 'ZZ', 'us', 'USA']) expect(continentOf(country), String(country)).toBeUndefined();
  });
});
