import { describe, expect, it } from 'vitest';
import { mapSvg, poolColors } from '../../scripts/lib/simulate/report.mjs';
import { MAP_COLORS, MAP_HEIGHT, MAP_WIDTH, NO_POOL, POOL_PALETTE, worldMap } from '../../src/geo/world-map';

// The simulator's map is the dashboard's: the land of src/geo/world-map.ts, its
// projection and its pool colours.

const summary = {
  host: 'proximity.localhost',
  pools: [
    { id: 'eu', latitude: 50.11, longitude: 8.68 },
    { id: 'us', latitude: 39.04, longitude: -77.49 },
  ],
  pops: [
    { colo: 'FRA', city: 'Frankfurt', country: 'DE', latitude: 50.03, longitude: 8.56 },
    { colo: 'IAD', city: 'Ashburn', country: 'US', latitude: 38.94, longitude: -77.46 },
  ],
};
const result = {
  name: 'baseline',
  title: 'the population through the host',
  host: 'proximity.localhost',
  clients: [
    { lat: 48.85, lon: 2.35, pool: 'eu' },
    { lat: 40.71, lon: -74.01, pool: 'us' },
    { lat: -33.87, lon: 151.21, pool: null },
  ],
  pools: { eu: 1, us: 1 },
  pops: { FRA: 1, IAD: 1 },
  withdrawn_pops: [],
  down_pools: [],
};

describe("the simulator's map", () => {
  const svg = mapSvg(summary, result);
  const world = worldMap();

  it('draws the land of Natural Earth over the ocean, in the shared colours', () => {
    const land = /<path class="land" d="([^"]+)" fill="([^"]+)" stroke="([^"]+)"/.exec(svg);
    expect(land).not.toBeNull();
    expect(land![1]).toBe(world.land);
    expect(land![1].match(/M/g)!.length).toBeGreaterThan(100);
    expect([land![2], land![3]]).toEqual([MAP_COLORS.land, MAP_COLORS.coast]);
    expect(svg).toContain(`<path class="ocean" d="${world.sphere}" fill="${MAP_COLORS.ocean}"`);
    // The ocean is drawn first, the land over it, the clients over both.
    expect(svg.indexOf('class="ocean"')).toBeLessThan(svg.indexOf('class="land"'));
    expect(svg.indexOf('class="land"')).toBeLessThan(svg.indexOf('class="client"'));
    expect(svg).toContain(`width="${MAP_WIDTH}"`);
    expect(svg).toContain(`height="${44 + MAP_HEIGHT + 40}"`);
  });

  it("places clients with the dashboard's projection and colours them with its palette", () => {
    expect(svg).toContain('<g class="map" transform="translate(0 44)">');
    const dots = [...svg.matchAll(/<circle class="client" cx="([^"]+)" cy="([^"]+)" r="2.2" fill="([^"]+)"/g)];
    expect(dots).toHaveLength(3);
    result.clients.forEach((client, i) => {
      const [x, y] = world.project(client.lon, client.lat);
      expect(Number(dots[i][1])).toBeCloseTo(x, 0);
      expect(Number(dots[i][2])).toBeCloseTo(y, 0);
    });
    expect(dots.map((d) => d[3])).toEqual([POOL_PALETTE[0], POOL_PALETTE[1], NO_POOL]);
    expect([...poolColors(summary).values()]).toEqual([POOL_PALETTE[0], POOL_PALETTE[1]]);
  });
});
