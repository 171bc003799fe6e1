/**
 * Cloudflare Load Balancing regions and the country -> region table.
 *
 * Pure data: no runtime deps, safe to import from the Worker and from Node tests.
 */

export const REGIONS = [
  'WNAM',
  'ENAM',
  'WEU',
  'EEU',
  'NSAM',
  'SSAM',
  'OC',
  'ME',
  'NAF',
  'SAF',
  'SAS',
  'SEAS',
  'NEAS',
] as const;

export type Region = (typeof REGIONS)[number];

const REGION_SET: ReadonlySet<string> = new Set(REGIONS);

export function isRegion(value: string): value is Region {
  return REGION_SET.has(value);
}

/*
 * Region -> ISO 3166-1 alpha-2 codes, kept as strings so the table stays readable.
 *
 * Source: Cloudflare's Load Balancing Regions API (GET /load_balancers/regions). Where that
 * API says nothing about a country (it only lists countries Cloudflare has data on), the code
 * is placed with its nearest listed neighbours. Some assignments look odd but are Cloudflare's,
 * e.g. the Nordics/Austria/Turkey in EEU, Cyprus/the Caucasus in ME, Bangladesh/Bhutan/Guam in
 * SEAS, Kazakhstan/Kyrgyzstan in SAS, Central America split between NSAM and ENAM.
 *
 * Cloudflare splits a few countries across two regions by state/province or area; each is
 * listed once here, under the region that holds most of its users:
 *   US, CA -> ENAM (also WNAM); BR -> SSAM (also NSAM); DE, IT -> WEU (also EEU); RU -> EEU (also SAS).
 * PoP-level data (pops.ts) uses the precise region for those.
 */
const COUNTRIES_BY_REGION: Readonly<Record<Region, string>> = {
  WNAM: 'MX',
  ENAM:
    'US CA PR DO JM HN BB ' +
    'BS BM CU HT KY TC VI VG AI AG KN MS DM LC VC GP MQ BL MF SX PM GL',
  NSAM: 'CO EC PE VE GY SR GF CR PA GT SV NI BZ GD TT AW CW BQ',
  SSAM: 'BR AR CL PY BO UY FK GS',
  WEU: 'GB IE FR DE NL BE LU CH IT ES PT IS MT AD MC LI SM VA GI GG JE IM FO',
  EEU:
    'AT CZ SK PL HU RO BG GR HR SI BA RS ME MK AL XK MD UA BY RU ' +
    'LT LV EE FI SE NO DK AX SJ TR',
  ME: 'AE SA QA BH KW OM YE IQ IR SY JO LB IL PS CY GE AM AZ',
  NAF:
    'EG LY TN DZ MA EH SD SS ET ER DJ SO MR ML NE TD SN GM GW GN SL LR ' +
    'CI BF GH TG BJ NG CV CM CF GQ ST',
  SAF: 'ZA NA BW ZW ZM MW MZ AO CD CG GA KE UG RW BI TZ MG MU RE YT KM SC SH LS SZ BV TF',
  SAS: 'IN PK LK MV NP AF KZ KG UZ TJ TM IO',
  SEAS: 'SG MY ID TH VN KH LA MM PH BN TL BD BT GU MP PW FM CX CC',
  NEAS: 'JP KR KP CN HK MO TW MN',
  OC: 'AU NZ PG FJ NC PF SB VU WS TO TV KI NR MH NU CK TK WF NF PN AS UM HM AQ',
};

// Inverted once at module load so lookups are O(1) on the request path.
const REGION_BY_COUNTRY: ReadonlyMap<string, Region> = new Map(
  REGIONS.flatMap((region) =>
    COUNTRIES_BY_REGION[region].split(' ').map((country) => [country, region] as const),
  ),
);

/** Cloudflare Load Balancing's region for an ISO 3166-1 alpha-2 country code (case-insensitive); undefined when unknown. */
export function regionOfCountry(country: string): Region | undefined {
  return REGION_BY_COUNTRY.get(country.toUpperCase());
}
