import { describe, expect, it } from 'vitest';

import { matchesExpectedCodes } from '../../src/health/expected-codes';

function matching(expected: string, statuses: readonly number[]): number[] {
  return statuses.filter((status) => matchesExpectedCodes(status, expected));
}

const AROUND_2XX = [199, 200, 201, 204, 299, 300, 301];

describe('matchesExpectedCodes', () => {
  it('matches an exact code and nothing else', () => {
    expect(matching('200', AROUND_2XX)).toEqual([200]);
    expect(matching('503', [500, 502, 503, 504])).toEqual([503]);
  });

  it('matches a status class on its boundaries (199/200/299/300)', () => {
    expect(matching('2xx', AROUND_2XX)).toEqual([200, 201, 204, 299]);
    expect(matching('3xx', [299, 300, 302, 399, 400])).toEqual([300, 302, 399]);
    expect(matching('1xx', [100, 101, 199, 200])).toEqual([100, 101, 199]);
    expect(matching('5xx', [499, 500, 599])).toEqual([500, 599]);
  });

  it('matches any code of a list', () => {
    expect(matching('200,204', AROUND_2XX)).toEqual([200, 204]);
    expect(matching('2xx,3xx', [199, 200, 299, 300, 399, 400])).toEqual([200, 299, 300, 399]);
  });

  it('mixes exact codes and classes', () => {
    expect(matching('2xx,301', AROUND_2XX)).toEqual([200, 201, 204, 299, 301]);
    expect(matching('404,5xx', [200, 404, 405, 500, 503])).toEqual([404, 500, 503]);
  });

  it('does not treat a class as a prefix of other numbers', () => {
    expect(matchesExpectedCodes(20, '2xx')).toBe(false);
    expect(matchesExpectedCodes(2000, '2xx')).toBe(false);
    expect(matchesExpectedCodes(0, '2xx')).toBe(false);
  });

  it('tolerates spaces and an upper-case class', () => {
    expect(matchesExpectedCodes(204, '200, 204')).toBe(true);
    expect(matchesExpectedCodes(204, '2XX')).toBe(true);
  });
});
