/** Weighing a workflow's state before a change that stores text (src/domain/state-size.ts). */
import { growthOf, jsonBytes, RESERVE_BYTES, StateBudget, STATE_BYTES_MAX } from '../../src/domain/state-size';
import { codeOf } from '../support/domain';

test('jsonBytes is the UTF-8 length of the JSON text', () => {
  for (const value of [
    { a: 'plain' },
    { accents: 'éàü ñ', cjk: '漢字かな', emoji: '🚀 ok 👍🏽' },
    ['quote " and \\ backslash', '\n\t', 42, null, true],
    'lone surrogate \ud800 here',
  ]) {
    expect(jsonBytes(value)).toBe(Buffer.byteLength(JSON.stringify(value), 'utf8'));
  }
});

test('a budget refuses growth past its limit, weighs the state only near it, never refuses a change without growth', () => {
  let weight = 10_000;
  let weighs = 0;
  const budget = new StateBudget(
    () => {
      weighs += 1;
      return weight;
    },
    (bytes, max) => `holds ${bytes} of ${max}`,
    100_000,
    10_000,
  );
  budget.check(20_000); // first change: weighed once
  budget.applied(20_000);
  weight = 30_000;
  budget.check(20_000); // bound 30,000 + 20,000 ≤ 100,000: not weighed again
  budget.applied(20_000);
  expect(weighs).toBe(1);
  weight = 50_000;
  budget.check(40_000); // bound 50,000 + 40,000 ≤ 100,000
  budget.applied(40_000);
  weight = 85_000;
  expect(codeOf(() => budget.check(20_000))).toBe('INVALID_ARGUMENT'); // bound 90,000: weighed, 85,000 is too much
  expect(weighs).toBe(2);
  expect(() => budget.check(20_000)).toThrow('holds 85000 of 100000');
  // A small change (a completion with a short result) may still use the reserve above the limit, up to 110,000.
  expect(() => budget.check(2_000)).not.toThrow();
  for (let i = 0; i < 12; i++) budget.applied(2_000); // the bound reaches 109,000
  weight = 109_000;
  expect(() => budget.check(2_000)).toThrow('holds 109000 of 110000');
  expect(() => budget.check(0)).not.toThrow(); // an acknowledgement, a claim: always admitted
  weight = 10_000; // something was acknowledged and pruned
  expect(() => budget.check(20_000)).not.toThrow();
});

test('growth counts the stored text twice, plus room for each item and the change itself', () => {
  expect(growthOf({ t: 'abc' })).toBe(2 * 11 + 1024);
  expect(growthOf({ tasks: [{}, {}] }, 2)).toBeGreaterThan(2 * 640);
  expect(STATE_BYTES_MAX + RESERVE_BYTES).toBeLessThan(2 * 1024 * 1024); // under the server's payload limit
});
