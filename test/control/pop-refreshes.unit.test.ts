import { describe, expect, it } from 'vitest';
import { PopRefreshLog } from '../../src/control/pop-refreshes';

describe('the refreshes served per PoP', () => {
  it('counts each PoP and keeps the shortest time between two of its refreshes', () => {
    const log = new PopRefreshLog();
    for (const at of [1000, 3000, 5100]) log.record('FRA', at);
    log.record('NRT', 2000);
    expect(log.report()).toEqual([
      { pop: 'FRA', refreshes: 3, minIntervalMs: 2000, lastAt: 5100 },
      { pop: 'NRT', refreshes: 1, minIntervalMs: null, lastAt: 2000 },
    ]);
  });

  it('counts what is not a colo code as unknown, and stays bounded whatever callers send', () => {
    const log = new PopRefreshLog();
    log.record('fra"}\n', 1);
    for (let i = 0; i < 1500; i++) log.record(`X${String(i).padStart(4, '0')}`, i);
    const report = log.report();
    expect(report.length).toBeLessThanOrEqual(1001);
    expect(report.find((p) => p.pop === 'unknown')!.refreshes).toBe(1 + 1500 - 999);
  });
});
