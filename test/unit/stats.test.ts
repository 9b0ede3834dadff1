/** The benchmark's summaries (src/bench/stats.ts). */
import { median, summarize } from '../../src/bench/stats';

test('the median of a row’s runs is the middle run, whatever order they ran in', () => {
  expect(median([733.1, 483.9, 640.2])).toBe(640.2);
  expect(median([5])).toBe(5);
  expect(median([4, 1, 3, 2])).toBe(2.5);
  expect(median([])).toBe(0);
});

test('percentiles come from the sorted samples', () => {
  const s = summarize(Array.from({ length: 100 }, (_, i) => 100 - i));
  expect(s).toEqual({ p50_ms: 51, p95_ms: 96, p99_ms: 100, max_ms: 100, n: 100 });
});
