import { describe, expect, it } from 'vitest';
import { bumpsRevision, changed, publishes, republish, unchanged, unpublished } from '../../src/control/mutation';

describe('mutation outcomes', () => {
  it('carry the change’s result and say what mutate does after it', () => {
    const table = [changed({ version: 2 }), unpublished([1]), republish(), unchanged(false)].map(({ effect, result }) => ({
      effect,
      result,
      bumps: bumpsRevision(effect),
      publishes: publishes(effect),
    }));
    expect(table).toEqual([
      { effect: 'changed', result: { version: 2 }, bumps: true, publishes: true },
      { effect: 'unpublished', result: [1], bumps: true, publishes: false },
      { effect: 'republish', result: undefined, bumps: false, publishes: true },
      { effect: 'unchanged', result: false, bumps: false, publishes: false },
    ]);
  });
});
