/**
 * Zod schemas built once per workflow thread and shared by every workflow instance on it.
 *
 * The workflow sandbox evaluates the bundle's modules again for each workflow instance; building the project's zod
 * schemas (and evaluating zod itself) was about 18 ms of each new instance's first workflow task — more than twice
 * the floor of a call. The worker preloads this module into the sandbox's shared module cache (see
 * `workflowBundlerOptions` in worker.ts), so `built` below lives once per thread. Every schema module builds its
 * schemas through `sharedSchemas`: the first instance builds them (requiring zod then, into its own module cache),
 * every later one gets the same objects and never evaluates zod at all.
 *
 * Why closures and a late `require`: the SDK deep-freezes what a preloaded module exports and everything it loads
 * while preloading, and zod v4 schemas (and zod's global config) are written to on first use, so neither may be
 * reachable from a frozen export. Schemas are pure values: built the same way whichever workflow builds them first,
 * they keep replays deterministic. Outside a workflow (the MCP server, the client) this is a plain memo.
 */
import type { z as Zod } from 'zod';

export type ZodApi = typeof Zod;

const built = new Map<string, unknown>();
let zod: ZodApi | undefined;

/** Zod, required on first use (for code that builds a schema inside a `sharedSchemas` builder). */
export function zodApi(): ZodApi {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- late on purpose: see the module comment
  zod ??= (require('zod') as { z: ZodApi }).z;
  return zod;
}

/** The schemas `build` returns, built on the first call for `key`; every later call returns the same object. */
export function sharedSchemas<T>(key: string, build: (z: ZodApi) => T): T {
  if (built.has(key)) return built.get(key) as T;
  const value = build(zodApi());
  built.set(key, value);
  return value;
}
