import { describe, expect, it } from 'vitest';

import { CITIES } from '../../src/geo/cities';
import { continentOf } from '../../src/geo/continents';

// Every officially assigned ISO 3166-1 alpha-2 code (249), so a code missing from the table shows up.
const ISO_3166_1_ALPHA_2 = `
  AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
  BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
  DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
  GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
  KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
  MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
  PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
  SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
  VN VU WF WS YE YT ZA ZM ZW
`
  .trim()
  .split(/\s+/);

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
