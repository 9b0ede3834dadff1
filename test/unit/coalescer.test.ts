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

/** A recorder whose sends stay in flight until released by hand. */
function manual(secondAt: number, maxBatch = 16) {
  const sent: number[][] = [];
  const open: Array<() => void> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const run = (ops: number[]): Promise<number[]> => {
    sent.push(ops);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    return new Promise((resolve) =>
      open.push(() => {
        inFlight -= 1;
        resolve(ops.map((op) => op * 10));
      }),
    );
  };
  const coalescer = createCoalescer<number, number>({
    maxBatch,
    secondAt,
    one: (_key, op) => run([op]).then((r) => r[0] as number),
    many: (_key, ops) => run(ops),
  });
  const turn = () => new Promise((r) => setImmediate(r));
  return { coalescer, sent, open, turn, maxInFlight: () => maxInFlight };
}

test('with secondAt, enough calls waiting leave as a second batch while the first is in flight', async () => {
  const { coalescer, sent, open, turn, maxInFlight } = manual(3);
  const first = [1, 2, 3].map((n) => coalescer.submit('g', n));
  await turn();
  expect(sent).toEqual([[1, 2, 3]]);
  const second = [4, 5, 6].map((n) => coalescer.submit('g', n));
  await turn();
  // Three wait (secondAt, and as many as the batch in flight): they leave without waiting for the first's answer.
  expect(sent).toEqual([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  // Never a third in flight: these wait for one of the two to come back.
  const third = [7, 8, 9, 10].map((n) => coalescer.submit('g', n));
  await turn();
  expect(sent).toHaveLength(2);
  open.shift()?.();
  await expect(Promise.all(first)).resolves.toEqual([10, 20, 30]);
  await turn();
  expect(sent[2]).toEqual([7, 8, 9, 10]);
  open.splice(0).forEach((release) => release());
  await turn();
  open.splice(0).forEach((release) => release());
  await expect(Promise.all([...second, ...third])).resolves.toEqual([40, 50, 60, 70, 80, 90, 100]);
  expect(maxInFlight()).toBe(2);
  expect(coalescer.pending()).toBe(0);
});

test('a second batch never leaves smaller than the one in flight, nor below secondAt', async () => {
  const { coalescer, sent, open, turn } = manual(2);
  const first = [1, 2, 3, 4].map((n) => coalescer.submit('g', n));
  await turn();
  const later = [5, 6, 7].map((n) => coalescer.submit('g', n));
  await turn();
  // Three wait behind a batch of four: they wait for its answer.
  expect(sent).toEqual([[1, 2, 3, 4]]);
  open.shift()?.();
  await Promise.all(first);
  await turn();
  expect(sent[1]).toEqual([5, 6, 7]);
  // One waiting behind that batch of three: below secondAt, it waits too.
  const lone = coalescer.submit('g', 8);
  await turn();
  expect(sent).toHaveLength(2);
  open.shift()?.();
  await Promise.all(later);
  await turn();
  expect(sent[2]).toEqual([8]);
  open.shift()?.();
  await expect(lone).resolves.toBe(80);
});
