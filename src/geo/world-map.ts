import { geoGraticule, geoNaturalEarth1, geoPath, type GeoSphere } from 'd3-geo';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import land110m from 'world-atlas/land-110m.json' with { type: 'json' };

// The world map that both the dashboard (src/admin/dashboard/client/map.ts) and the
// simulator's report (scripts/lib/simulate/report.mjs) draw: one projection, one frame,
// one palette, and the land of Natural Earth's 1:110m outline (world-atlas), so the
// continents look the same wherever a PoP or a client is placed. Pure: no I/O, nothing
// computed before it is first asked for. Node imports this file as it is (only type
// annotations to strip), so the simulator runs it without a build.

/** The frame every map is drawn in: an SVG viewBox of `0 0 MAP_WIDTH MAP_HEIGHT`. */
export const MAP_WIDTH = 960;
export const MAP_HEIGHT = 500;

/**
 * Pool colours, by the pool's place in the configuration: Okabe-Ito and Tol colours,
 * told apart with the common colour-vision deficiencies.
 */
export const POOL_PALETTE: readonly string[] = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#56B4E9', '#332288', '#882255', '#117733', '#999933'];

/** What has no pool: a PoP not steered, a client no origin answered. */
export const NO_POOL = '#8d98a5';

/** The map's own colours: pale enough that every pool colour stands out on land and sea. */
export const MAP_COLORS = {
  ocean: '#d4e3f0',
  land: '#ebe6da',
  coast: '#a5afb8',
  graticule: '#c0d2e3',
} as const;

/** The colour of the pool at `index` in the configuration's list. */
export function poolColor(index: number): string {
  return POOL_PALETTE[index % POOL_PALETTE.length];
}

export interface WorldMap {
  /** Longitude and latitude in degrees → x, y in the frame, to 0.01. */
  project(longitude: number, latitude: number): [number, number];
  /** SVG path data: the whole globe's outline, filled as the ocean. */
  sphere: string;
  /** SVG path data: meridians and parallels every 30°. */
  graticule: string;
  /** SVG path data: the land, coastlines included. */
  land: string;
}

const SPHERE: GeoSphere = { type: 'Sphere' };

let drawn: WorldMap | undefined;

/** The map, projected once (Natural Earth, fitted to the frame with a unit's margin for the outline's stroke). */
export function worldMap(): WorldMap {
  if (drawn) return drawn;
  const projection = geoNaturalEarth1().fitExtent(
    [
      [1, 1],
      [MAP_WIDTH - 1, MAP_HEIGHT - 1],
    ],
    SPHERE,
  );
  const path = geoPath(projection).digits(1);
  const topology = land110m as unknown as Topology<{ land: GeometryCollection }>;
  const round = (value: number) => Math.round(value * 100) / 100;
  drawn = {
    project(longitude, latitude) {
      const [x, y] = projection([longitude, latitude]) ?? [Number.NaN, Number.NaN];
      return [round(x), round(y)];
    },
    sphere: path(SPHERE) ?? '',
    graticule: path(geoGraticule().step([30, 30])()) ?? '',
    land: path(feature(topology, topology.objects.land)) ?? '',
  };
  return drawn;
}
