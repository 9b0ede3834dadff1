/** The client's per-goal batching of concurrent calls (pure: no server). */
import { createCoalescer } from '../../src/client/coalescer';

function recorder(delayMs = 5) {
  const sent: Array<{ key: string; ops: number[] }> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const run = async <T>(key: string, ops: number[], answer: () => T): Promise<T> => {
    sent.push({ key, ops });
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, delayMs));
    inFlight -= 1;
    return answer();
  };
  const coalescer = createCoalescer<number, number>({
    maxBatch: 4,
    one: (key, op) => run(key, [op], () => op * 10),
    many: (key, ops) => run(key, ops, () => ops.map((op) => (op < 0 ? new Error(`refused ${op}`) : op * 10))),
  });
  return { coalescer, sent, maxInFlight: () => maxInFlight };
}

test('a lone call goes alone', async () => {
  const { coalescer, sent } = recorder();
  await expect(coalescer.submit('g', 7)).resolves.toBe(70);
  expect(sent).toEqual([{ key: 'g', ops: [7] }]);
  expect(coalescer.pending()).toBe(0);
});

test('calls made together go together, up to maxBatch, one batch in flight per key', async () => {
  const { coalescer, sent, maxInFlight } = recorder();
  const results = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => coalescer.submit('g', n)));
  expect(results).toEqual([10, 20, 30, 40, 50, 60]);
  expect(sent).toEqual([
    { key: 'g', ops: [1, 2, 3, 4] },
    { key: 'g', ops: [5, 6] },
  ]);
  expect(maxInFlight()).toBe(1);
});

test('calls arriving while a batch is in flight wait for it, then leave together', async () => {
  const { coalescer, sent } = recorder(20);
  const first = coalescer.submit('g', 1);
  await new Promise((r) => setTimeout(r, 5));
  const later = [2, 3].map((n) => coalescer.submit('g', n));
  await Promise.all([first, ...later]);
  expect(sent.map((s) => s.ops)).toEqual([[1], [2, 3]]);
});

test('keys are independent', async () => {
  const { coalescer, sent, maxInFlight } = recorder();
  await Promise.all([coalescer.submit('a', 1), coalescer.submit('b', 2), coalescer.submit('a', 3)]);
  expect(sent).toEqual([
    { key: 'a', ops: [1, 3] },
    { key: 'b', ops: [2] },
  ]);
  expect(maxInFlight()).toBe(2);
});

test('one refused call rejects alone; a failed send rejects every call in it', async () => {
  const { coalescer } = recorder();
  const outcomes = await Promise.allSettled([coalescer.submit('g', 1), coalescer.submit('g', -2)]);
  expect(outcomes[0]).toEqual({ status: 'fulfilled', value: 10 });
  expect(outcomes[1]).toMatchObject({ status: 'rejected', reason: new Error('refused -2') });

  const broken = createCoalescer<number, number>({
    maxBatch: 8,
    one: () => Promise.reject(new Error('unavailable')),
    many: () => Promise.reject(new Error('unavailable')),
  });
  const all = await Promise.allSettled([broken.submit('g', 1), broken.submit('g', 2)]);
  expect(all.map((o) => o.status)).toEqual(['rejected', 'rejected']);
  expect(broken.pending()).toBe(0);
  // The key recovers for the next call.
  await expect(broken.submit('g', 3)).rejects.toThrow('unavailable');
});
