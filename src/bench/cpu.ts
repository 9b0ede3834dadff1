/**
 * CPU time from Linux's /proc, for the benchmark's CPU-per-task figures: a process's own (user + system) and the whole
 * machine's busy time. Elsewhere (no /proc) every reading is undefined and the figures are left out.
 */
import fs from 'node:fs';

/** Linux reports CPU time in clock ticks of USER_HZ, which is 100 on every current architecture. */
const TICKS_PER_S = 100;

/** User + system seconds from the text of /proc/<pid>/stat (the command name may hold spaces and parentheses). */
export function parseProcessStat(text: string): number | undefined {
  const fields = text
    .slice(text.lastIndexOf(')') + 2)
    .trim()
    .split(/\s+/);
  // After "pid (comm) ": state is field 3 of the man page, utime 14 and stime 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / TICKS_PER_S : undefined;
}

/** Busy seconds of all CPUs together from the text of /proc/stat (everything but idle and iowait). */
export function parseMachineStat(text: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = [user, nice, system, irq, softirq, steal].reduce<number>((a, b) => a + (b ?? 0), 0);
  return Number.isFinite(busy) ? busy / TICKS_PER_S : undefined;
}

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** CPU seconds a process has used, or undefined (no /proc, or the process is gone). */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const text = read(`/proc/${pid}/stat`);
  return text === undefined ? undefined : parseProcessStat(text);
}

/** Busy CPU seconds of the whole machine, or undefined without /proc. */
export function machineCpuSeconds(): number | undefined {
  const text = read('/proc/stat');
  return text === undefined ? undefined : parseMachineStat(text);
}

/** This process's CPU seconds (every thread: the worker's too when it runs here). */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
