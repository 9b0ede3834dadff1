import { sharedRead } from '../../src/client/shared-read';

test('callers join the read in flight and take its answer while fresh; a failed read is not kept', async () => {
  let now = 0;
  let reads = 0;
  let fail = false;
  const read = sharedRead(
    async () => {
      reads += 1;
      await new Promise((r) => setTimeout(r, 5));
      if (fail) throw new Error('down');
      return reads;
    },
    100,
    () => now,
  );
  expect(await Promise.all([read(), read(), read()])).toEqual([1, 1, 1]); // one read for three callers
  now = 99;
  expect(await read()).toBe(1); // still fresh
  now = 100;
  expect(await read()).toBe(2); // stale: read again
  now = 300;
  fail = true;
  await expect(read()).rejects.toThrow('down');
  fail = false;
  expect(await read()).toBe(4); // the failure was not kept
});
