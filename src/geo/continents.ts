/**
 * Country -> continent, as Cloudflare gives it in `request.cf.continent` and conditions
 * read it as `ip.src.continent` (SPEC §9): AF, AN, AS, EU, NA, OC, SA.
 *
 * Pure data: no imports, safe for the Worker and for Node scripts alike.
 */

/*
 * Continent -> ISO 3166-1 alpha-2 codes (all 249, plus XK, Kosovo, which Cloudflare
 * uses), kept as strings so the table stays readable. The split follows GeoNames'
 * country table, which IP geolocation databases share: a country spanning two continents
 * is listed once (TR, GE, AM, AZ, KZ in AS; RU, CY in EU; EG in AF), Central America and
 * the Caribbean are NA, TL and UM are OC, and the uninhabited southern islands are AN.
 */
const COUNTRIES_BY_CONTINENT = {
  AF:
    'AO BF BI BJ BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GH GM GN GQ GW KE KM LR LS LY MA MG ' +
    'ML MR MU MW MZ NA NE NG RE RW SC SD SH SL SN SO SS ST SZ TD TG TN TZ UG YT ZA ZM ZW',
  AN: 'AQ BV GS HM TF',
  AS:
    'AE AF AM AZ BD BH BN BT CC CN CX GE HK ID IL IN IO IQ IR JO JP KG KH KP KR KW KZ LA LB LK ' +
    'MM MN MO MV MY NP OM PH PK PS QA SA SG SY TH TJ TM TR TW UZ VN YE',
  EU:
    'AD AL AT AX BA BE BG BY CH CY CZ DE DK EE ES FI FO FR GB GG GI GR HR HU IE IM IS IT JE LI ' +
    'LT LU LV MC MD ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM UA VA XK',
  NA:
    'AG AI AW BB BL BM BQ BS BZ CA CR CU CW DM DO GD GL GP GT HN HT JM KN KY LC MF MQ MS MX NI ' +
    'PA PM PR SV SX TC TT US VC VG VI',
  OC: 'AS AU CK FJ FM GU KI MH MP NC NF NR NU NZ PF PG PN PW SB TK TL TO TV UM VU WF WS',
  SA: 'AR BO BR CL CO EC FK GF GY PE PY SR UY VE',
} as const;

export type Continent = keyof typeof COUNTRIES_BY_CONTINENT;

// Inverted once at module load: a lookup per request is one map read.
const CONTINENT_BY_COUNTRY: ReadonlyMap<string, string> = new Map([
  ...Object.entries(COUNTRIES_BY_CONTINENT).flatMap(([continent, countries]) =>
    countries.split(' ').map((country) => [country, continent] as const),
  ),
  // Cloudflare's pseudo-country for Tor exit nodes is its own continent too.
  ['T1', 'T1'],
]);

/**
 * The continent of an upper-case ISO 3166-1 alpha-2 country code as `request.cf.continent`
 * gives it ("T1" for Tor); undefined for "XX" (unknown), anything else unknown, or none.
 */
export function continentOf(country: string | undefined): string | undefined {
  return country === undefined ? undefined : CONTINENT_BY_COUNTRY.get(country);
}
