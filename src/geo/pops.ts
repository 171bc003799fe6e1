/**
 * A curated list of real Cloudflare data centres (PoPs), keyed by their IATA colo code.
 *
 * Coordinates are the city's (not the airport's), to 2 decimals, which is plenty for
 * great-circle distance estimates.
 */

import type { Region } from './regions';
import { regionOfCountry } from './regions';

export interface Pop {
  readonly colo: string;
  readonly city: string;
  readonly country: string;
  readonly lat: number;
  readonly lon: number;
  readonly region: Region;
}

/*
 * [colo, city, country, lat, lon, region?]. The region defaults to the country's; it is given
 * only where Cloudflare splits that country by state/area (US, CA, BR, DE, IT), so each PoP
 * gets the region Cloudflare actually assigns it, e.g. Texas is WNAM and Berlin is EEU.
 */
type PopRow = readonly [colo: string, city: string, country: string, lat: number, lon: number, region?: Region];

const POP_ROWS: readonly PopRow[] = [
  // Western North America
  ['LAX', 'Los Angeles', 'US', 34.05, -118.24, 'WNAM'],
  ['SJC', 'San Jose', 'US', 37.34, -121.89, 'WNAM'],
  ['SFO', 'San Francisco', 'US', 37.77, -122.42, 'WNAM'],
  ['SEA', 'Seattle', 'US', 47.61, -122.33, 'WNAM'],
  ['PDX', 'Portland', 'US', 45.52, -122.68, 'WNAM'],
  ['SAN', 'San Diego', 'US', 32.72, -117.16, 'WNAM'],
  ['SMF', 'Sacramento', 'US', 38.58, -121.49, 'WNAM'],
  ['LAS', 'Las Vegas', 'US', 36.17, -115.14, 'WNAM'],
  ['PHX', 'Phoenix', 'US', 33.45, -112.07, 'WNAM'],
  ['SLC', 'Salt Lake City', 'US', 40.76, -111.89, 'WNAM'],
  ['DEN', 'Denver', 'US', 39.74, -104.99, 'WNAM'],
  ['ABQ', 'Albuquerque', 'US', 35.08, -106.65, 'WNAM'],
  ['DFW', 'Dallas', 'US', 32.78, -96.8, 'WNAM'],
  ['IAH', 'Houston', 'US', 29.76, -95.37, 'WNAM'],
  ['AUS', 'Austin', 'US', 30.27, -97.74, 'WNAM'],
  ['SAT', 'San Antonio', 'US', 29.42, -98.49, 'WNAM'],
  ['OKC', 'Oklahoma City', 'US', 35.47, -97.52, 'WNAM'],
  ['MCI', 'Kansas City', 'US', 39.1, -94.58, 'WNAM'],
  ['OMA', 'Omaha', 'US', 41.26, -95.93, 'WNAM'],
  ['HNL', 'Honolulu', 'US', 21.31, -157.86, 'WNAM'],
  ['ANC', 'Anchorage', 'US', 61.22, -149.9, 'WNAM'],
  ['YVR', 'Vancouver', 'CA', 49.28, -123.12, 'WNAM'],
  ['YYC', 'Calgary', 'CA', 51.04, -114.07, 'WNAM'],
  ['MEX', 'Mexico City', 'MX', 19.43, -99.13],
  ['QRO', 'Querétaro', 'MX', 20.59, -100.39],
  ['GDL', 'Guadalajara', 'MX', 20.66, -103.35],

  // Eastern North America
  ['IAD', 'Ashburn', 'US', 39.04, -77.49],
  ['EWR', 'Newark', 'US', 40.74, -74.17],
  ['BOS', 'Boston', 'US', 42.36, -71.06],
  ['PHL', 'Philadelphia', 'US', 39.95, -75.17],
  ['PIT', 'Pittsburgh', 'US', 40.44, -80.0],
  ['RIC', 'Richmond', 'US', 37.54, -77.44],
  ['CLT', 'Charlotte', 'US', 35.23, -80.84],
  ['ATL', 'Atlanta', 'US', 33.75, -84.39],
  ['MIA', 'Miami', 'US', 25.76, -80.19],
  ['TPA', 'Tampa', 'US', 27.95, -82.46],
  ['JAX', 'Jacksonville', 'US', 30.33, -81.66],
  ['BNA', 'Nashville', 'US', 36.16, -86.78],
  ['MEM', 'Memphis', 'US', 35.15, -90.05],
  ['ORD', 'Chicago', 'US', 41.88, -87.63],
  ['DTW', 'Detroit', 'US', 42.33, -83.05],
  ['CMH', 'Columbus', 'US', 39.96, -83.0],
  ['IND', 'Indianapolis', 'US', 39.77, -86.16],
  ['STL', 'St. Louis', 'US', 38.63, -90.2],
  ['MSP', 'Minneapolis', 'US', 44.98, -93.27],
  ['YYZ', 'Toronto', 'CA', 43.65, -79.38],
  ['YUL', 'Montreal', 'CA', 45.5, -73.57],
  ['YOW', 'Ottawa', 'CA', 45.42, -75.7],
  ['YHZ', 'Halifax', 'CA', 44.65, -63.58],
  ['YWG', 'Winnipeg', 'CA', 49.9, -97.14],
  ['SJU', 'San Juan', 'PR', 18.47, -66.11],
  ['SDQ', 'Santo Domingo', 'DO', 18.49, -69.93],
  ['KIN', 'Kingston', 'JM', 17.97, -76.79],
  ['TGU', 'Tegucigalpa', 'HN', 14.07, -87.19],
  ['BGI', 'Bridgetown', 'BB', 13.1, -59.62],

  // Northern South America (incl. Central America and north-east Brazil, per Cloudflare)
  ['BOG', 'Bogotá', 'CO', 4.71, -74.07],
  ['MDE', 'Medellín', 'CO', 6.24, -75.58],
  ['CLO', 'Cali', 'CO', 3.45, -76.53],
  ['BAQ', 'Barranquilla', 'CO', 10.97, -74.78],
  ['LIM', 'Lima', 'PE', -12.05, -77.04],
  ['UIO', 'Quito', 'EC', -0.18, -78.47],
  ['GYE', 'Guayaquil', 'EC', -2.17, -79.92],
  ['PTY', 'Panama City', 'PA', 8.98, -79.52],
  ['SJO', 'San José', 'CR', 9.93, -84.09],
  ['GUA', 'Guatemala City', 'GT', 14.63, -90.51],
  ['GEO', 'Georgetown', 'GY', 6.8, -58.16],
  ['PBM', 'Paramaribo', 'SR', 5.85, -55.2],
  ['POS', 'Port of Spain', 'TT', 10.66, -61.51],
  ['FOR', 'Fortaleza', 'BR', -3.73, -38.53, 'NSAM'],
  ['REC', 'Recife', 'BR', -8.05, -34.88, 'NSAM'],
  ['SSA', 'Salvador', 'BR', -12.98, -38.5, 'NSAM'],
  ['MAO', 'Manaus', 'BR', -3.12, -60.02, 'NSAM'],
  ['BEL', 'Belém', 'BR', -1.46, -48.49, 'NSAM'],

  // Southern South America
  ['GRU', 'São Paulo', 'BR', -23.55, -46.63],
  ['GIG', 'Rio de Janeiro', 'BR', -22.91, -43.17],
  ['VCP', 'Campinas', 'BR', -22.91, -47.06],
  ['CNF', 'Belo Horizonte', 'BR', -19.92, -43.94],
  ['BSB', 'Brasília', 'BR', -15.8, -47.89],
  ['CWB', 'Curitiba', 'BR', -25.43, -49.27],
  ['POA', 'Porto Alegre', 'BR', -30.03, -51.22],
  ['EZE', 'Buenos Aires', 'AR', -34.6, -58.38],
  ['COR', 'Córdoba', 'AR', -31.42, -64.19],
  ['SCL', 'Santiago', 'CL', -33.45, -70.67],
  ['ASU', 'Asunción', 'PY', -25.26, -57.58],
  ['LPB', 'La Paz', 'BO', -16.49, -68.12],

  // Western Europe
  ['LHR', 'London', 'GB', 51.51, -0.13],
  ['MAN', 'Manchester', 'GB', 53.48, -2.24],
  ['DUB', 'Dublin', 'IE', 53.35, -6.26],
  ['AMS', 'Amsterdam', 'NL', 52.37, 4.9],
  ['BRU', 'Brussels', 'BE', 50.85, 4.35],
  ['LUX', 'Luxembourg', 'LU', 49.61, 6.13],
  ['CDG', 'Paris', 'FR', 48.86, 2.35],
  ['MRS', 'Marseille', 'FR', 43.3, 5.37],
  ['LYS', 'Lyon', 'FR', 45.76, 4.84],
  ['BOD', 'Bordeaux', 'FR', 44.84, -0.58],
  ['FRA', 'Frankfurt', 'DE', 50.11, 8.68],
  ['DUS', 'Düsseldorf', 'DE', 51.23, 6.77],
  ['MUC', 'Munich', 'DE', 48.14, 11.58],
  ['STR', 'Stuttgart', 'DE', 48.78, 9.18],
  ['ZRH', 'Zurich', 'CH', 47.38, 8.54],
  ['GVA', 'Geneva', 'CH', 46.2, 6.14],
  ['MXP', 'Milan', 'IT', 45.46, 9.19],
  ['MAD', 'Madrid', 'ES', 40.42, -3.7],
  ['BCN', 'Barcelona', 'ES', 41.39, 2.17],
  ['LIS', 'Lisbon', 'PT', 38.72, -9.14],
  ['KEF', 'Reykjavík', 'IS', 64.15, -21.94],
  ['MLA', 'Valletta', 'MT', 35.9, 14.51],

  // Eastern Europe (incl. the Nordics, Austria and Turkey, per Cloudflare)
  ['TXL', 'Berlin', 'DE', 52.52, 13.4, 'EEU'],
  ['HAM', 'Hamburg', 'DE', 53.55, 9.99, 'EEU'],
  ['FCO', 'Rome', 'IT', 41.9, 12.5, 'EEU'],
  ['PMO', 'Palermo', 'IT', 38.12, 13.36, 'EEU'],
  ['VIE', 'Vienna', 'AT', 48.21, 16.37],
  ['PRG', 'Prague', 'CZ', 50.08, 14.44],
  ['BTS', 'Bratislava', 'SK', 48.15, 17.11],
  ['WAW', 'Warsaw', 'PL', 52.23, 21.01],
  ['WRO', 'Wrocław', 'PL', 51.11, 17.04],
  ['BUD', 'Budapest', 'HU', 47.5, 19.04],
  ['OTP', 'Bucharest', 'RO', 44.43, 26.1],
  ['SOF', 'Sofia', 'BG', 42.7, 23.32],
  ['ATH', 'Athens', 'GR', 37.98, 23.73],
  ['SKG', 'Thessaloniki', 'GR', 40.64, 22.94],
  ['ZAG', 'Zagreb', 'HR', 45.81, 15.98],
  ['BEG', 'Belgrade', 'RS', 44.79, 20.45],
  ['SKP', 'Skopje', 'MK', 42.0, 21.43],
  ['TIA', 'Tirana', 'AL', 41.33, 19.82],
  ['KIV', 'Chișinău', 'MD', 47.01, 28.86],
  ['KBP', 'Kyiv', 'UA', 50.45, 30.52],
  ['VNO', 'Vilnius', 'LT', 54.69, 25.28],
  ['RIX', 'Riga', 'LV', 56.95, 24.11],
  ['TLL', 'Tallinn', 'EE', 59.44, 24.75],
  ['HEL', 'Helsinki', 'FI', 60.17, 24.94],
  ['ARN', 'Stockholm', 'SE', 59.33, 18.07],
  ['GOT', 'Gothenburg', 'SE', 57.71, 11.97],
  ['OSL', 'Oslo', 'NO', 59.91, 10.75],
  ['CPH', 'Copenhagen', 'DK', 55.68, 12.57],
  ['IST', 'Istanbul', 'TR', 41.01, 28.98],
  ['ADB', 'Izmir', 'TR', 38.42, 27.14],

  // Middle East (incl. Cyprus and the Caucasus, per Cloudflare)
  ['DXB', 'Dubai', 'AE', 25.2, 55.27],
  ['DOH', 'Doha', 'QA', 25.29, 51.53],
  ['BAH', 'Manama', 'BH', 26.23, 50.59],
  ['KWI', 'Kuwait City', 'KW', 29.38, 47.98],
  ['RUH', 'Riyadh', 'SA', 24.71, 46.68],
  ['JED', 'Jeddah', 'SA', 21.49, 39.19],
  ['DMM', 'Dammam', 'SA', 26.42, 50.09],
  ['MCT', 'Muscat', 'OM', 23.59, 58.38],
  ['BGW', 'Baghdad', 'IQ', 33.32, 44.37],
  ['AMM', 'Amman', 'JO', 31.95, 35.93],
  ['BEY', 'Beirut', 'LB', 33.89, 35.5],
  ['TLV', 'Tel Aviv', 'IL', 32.09, 34.78],
  ['LCA', 'Nicosia', 'CY', 35.19, 33.38],
  ['TBS', 'Tbilisi', 'GE', 41.72, 44.83],
  ['EVN', 'Yerevan', 'AM', 40.18, 44.5],
  ['GYD', 'Baku', 'AZ', 40.41, 49.87],

  // Northern Africa (incl. West Africa and the Horn, per Cloudflare)
  ['CAI', 'Cairo', 'EG', 30.04, 31.24],
  ['ALG', 'Algiers', 'DZ', 36.75, 3.06],
  ['ORN', 'Oran', 'DZ', 35.7, -0.63],
  ['TUN', 'Tunis', 'TN', 36.81, 10.18],
  ['LOS', 'Lagos', 'NG', 6.52, 3.38],
  ['ACC', 'Accra', 'GH', 5.6, -0.19],
  ['ABJ', 'Abidjan', 'CI', 5.36, -4.01],
  ['DKR', 'Dakar', 'SN', 14.72, -17.47],
  ['OUA', 'Ouagadougou', 'BF', 12.37, -1.52],
  ['JIB', 'Djibouti', 'DJ', 11.59, 43.15],
  ['ADD', 'Addis Ababa', 'ET', 9.03, 38.74],

  // Southern Africa (incl. East Africa south of the Horn, per Cloudflare)
  ['JNB', 'Johannesburg', 'ZA', -26.2, 28.05],
  ['CPT', 'Cape Town', 'ZA', -33.92, 18.42],
  ['DUR', 'Durban', 'ZA', -29.86, 31.02],
  ['NBO', 'Nairobi', 'KE', -1.29, 36.82],
  ['MBA', 'Mombasa', 'KE', -4.04, 39.67],
  ['DAR', 'Dar es Salaam', 'TZ', -6.79, 39.21],
  ['KGL', 'Kigali', 'RW', -1.94, 30.06],
  ['EBB', 'Kampala', 'UG', 0.35, 32.58],
  ['FIH', 'Kinshasa', 'CD', -4.44, 15.27],
  ['LAD', 'Luanda', 'AO', -8.84, 13.29],
  ['LUN', 'Lusaka', 'ZM', -15.39, 28.32],
  ['HRE', 'Harare', 'ZW', -17.83, 31.03],
  ['MPM', 'Maputo', 'MZ', -25.97, 32.57],
  ['GBE', 'Gaborone', 'BW', -24.63, 25.92],
  ['WDH', 'Windhoek', 'NA', -22.56, 17.07],
  ['TNR', 'Antananarivo', 'MG', -18.88, 47.51],
  ['MRU', 'Port Louis', 'MU', -20.16, 57.5],
  ['RUN', 'Saint-Denis', 'RE', -20.88, 55.45],

  // Southern Asia (incl. Kazakhstan and Kyrgyzstan, per Cloudflare)
  ['BOM', 'Mumbai', 'IN', 19.08, 72.88],
  ['DEL', 'New Delhi', 'IN', 28.61, 77.21],
  ['MAA', 'Chennai', 'IN', 13.08, 80.27],
  ['BLR', 'Bangalore', 'IN', 12.97, 77.59],
  ['HYD', 'Hyderabad', 'IN', 17.39, 78.49],
  ['CCU', 'Kolkata', 'IN', 22.57, 88.36],
  ['AMD', 'Ahmedabad', 'IN', 23.02, 72.57],
  ['KHI', 'Karachi', 'PK', 24.86, 67.0],
  ['LHE', 'Lahore', 'PK', 31.52, 74.36],
  ['ISB', 'Islamabad', 'PK', 33.68, 73.05],
  ['CMB', 'Colombo', 'LK', 6.93, 79.86],
  ['KTM', 'Kathmandu', 'NP', 27.72, 85.32],
  ['MLE', 'Malé', 'MV', 4.18, 73.51],
  ['ALA', 'Almaty', 'KZ', 43.22, 76.85],
  ['NQZ', 'Astana', 'KZ', 51.17, 71.45],
  ['FRU', 'Bishkek', 'KG', 42.87, 74.57],

  // South East Asia (incl. Bangladesh, Bhutan and Guam, per Cloudflare)
  ['SIN', 'Singapore', 'SG', 1.29, 103.85],
  ['KUL', 'Kuala Lumpur', 'MY', 3.14, 101.69],
  ['JHB', 'Johor Bahru', 'MY', 1.49, 103.74],
  ['BKK', 'Bangkok', 'TH', 13.76, 100.5],
  ['CNX', 'Chiang Mai', 'TH', 18.79, 98.99],
  ['CGK', 'Jakarta', 'ID', -6.21, 106.85],
  ['DPS', 'Denpasar', 'ID', -8.67, 115.21],
  ['MNL', 'Manila', 'PH', 14.6, 120.98],
  ['CEB', 'Cebu', 'PH', 10.32, 123.89],
  ['SGN', 'Ho Chi Minh City', 'VN', 10.78, 106.7],
  ['HAN', 'Hanoi', 'VN', 21.03, 105.85],
  ['PNH', 'Phnom Penh', 'KH', 11.56, 104.93],
  ['VTE', 'Vientiane', 'LA', 17.98, 102.63],
  ['BWN', 'Bandar Seri Begawan', 'BN', 4.9, 114.94],
  ['DAC', 'Dhaka', 'BD', 23.81, 90.41],
  ['CGP', 'Chittagong', 'BD', 22.36, 91.78],
  ['PBH', 'Thimphu', 'BT', 27.47, 89.64],
  ['GUM', 'Hagåtña', 'GU', 13.48, 144.75],

  // North East Asia
  ['NRT', 'Tokyo', 'JP', 35.68, 139.69],
  ['KIX', 'Osaka', 'JP', 34.69, 135.5],
  ['FUK', 'Fukuoka', 'JP', 33.59, 130.4],
  ['OKA', 'Naha', 'JP', 26.21, 127.68],
  ['ICN', 'Seoul', 'KR', 37.57, 126.98],
  ['HKG', 'Hong Kong', 'HK', 22.32, 114.17],
  ['MFM', 'Macau', 'MO', 22.2, 113.54],
  ['TPE', 'Taipei', 'TW', 25.03, 121.57],
  ['KHH', 'Kaohsiung', 'TW', 22.63, 120.3],
  ['ULN', 'Ulaanbaatar', 'MN', 47.89, 106.91],

  // Oceania
  ['SYD', 'Sydney', 'AU', -33.87, 151.21],
  ['MEL', 'Melbourne', 'AU', -37.81, 144.96],
  ['BNE', 'Brisbane', 'AU', -27.47, 153.03],
  ['PER', 'Perth', 'AU', -31.95, 115.86],
  ['ADL', 'Adelaide', 'AU', -34.93, 138.6],
  ['CBR', 'Canberra', 'AU', -35.28, 149.13],
  ['HBA', 'Hobart', 'AU', -42.88, 147.33],
  ['AKL', 'Auckland', 'NZ', -36.85, 174.76],
  ['CHC', 'Christchurch', 'NZ', -43.53, 172.64],
  ['NOU', 'Nouméa', 'NC', -22.28, 166.46],
  ['PPT', 'Papeete', 'PF', -17.55, -149.56],
  ['SUV', 'Suva', 'FJ', -18.12, 178.45],
];

function toPop([colo, city, country, lat, lon, region]: PopRow): Pop {
  const resolved = region ?? regionOfCountry(country);
  // Static data, so this can only fire if the table above is edited wrongly; the unit test loads it.
  if (resolved === undefined) throw new Error(`pops: no region for ${colo} (country ${country})`);
  return Object.freeze({ colo, city, country, lat, lon, region: resolved });
}

/** Real Cloudflare data centres (IATA colo code), at least 90 of them spread over every one of the 13 regions. */
export const POPS: readonly Pop[] = Object.freeze(POP_ROWS.map(toPop));
