/** Reading CPU time from /proc for the benchmark's CPU per task (src/bench/cpu.ts). */
import { machineCpuSeconds, parseMachineStat, parseProcessStat, processCpuSeconds } from '../../src/bench/cpu';

test("a process's user + system time, whatever its command name holds", () => {
  const rest = 'S 1 2 3 4 5 6 7 8 9 10 250 75 0 0 20 0 1 0 100 0 0';
  expect(parseProcessStat(`4242 (node) ${rest}`)).toBe(3.25);
  expect(parseProcessStat(`4242 (a (weird) name) ${rest}`)).toBe(3.25);
  expect(parseProcessStat('garbage')).toBeUndefined();
});

test("the machine's busy time leaves out idle and iowait", () => {
  const stat = 'cpu  1000 50 200 9000 300 10 20 5 0 0\ncpu0 500 25 100 4500 150 5 10 2 0 0\n';
  expect(parseMachineStat(stat)).toBe(12.85); // (1000 + 50 + 200 + 10 + 20 + 5) / 100
  expect(parseMachineStat('intr 1 2 3')).toBeUndefined();
});

test('on Linux this process and the machine read as growing numbers', () => {
  if (process.platform !== 'linux') return;
  const own = processCpuSeconds(process.pid);
  const machine = machineCpuSeconds();
  expect(own).toBeGreaterThan(0);
  expect(machine).toBeGreaterThanOrEqual(own ?? 0);
  expect(processCpuSeconds(2 ** 30)).toBeUndefined(); // no such process
});
