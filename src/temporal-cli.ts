/**
 * Finds the `temporal` CLI (dev server, Web UI and CLI in one binary), DESIGN §1:
 * TEMPORAL_CLI_PATH → `temporal` on PATH → the cached build → building it with Go into the cache.
 * Tests, `up` and the benchmark all use this one resolver.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { log } from './logger';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

/** Where built binaries are kept, outside any clone: $XDG_CACHE_HOME/agent-runtime (default ~/.cache). */
export function cacheRoot(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'agent-runtime');
}

export function cacheDir(): string {
  return path.join(cacheRoot(), `temporal-${TEMPORAL_CLI_VERSION}`);
}

export function cachedBinaryPath(): string {
  return path.join(cacheDir(), 'temporal');
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export class TemporalCliNotFound extends Error {
  constructor(detail: string) {
    super(
      `The Temporal CLI could not be found or built (${detail}). Get it one of three ways:\n` +
        `  1. set TEMPORAL_CLI_PATH to an existing \`temporal\` binary;\n` +
        `  2. put \`temporal\` on your PATH (https://docs.temporal.io/cli#install);\n` +
        `  3. install Go ≥ 1.23 and rerun: it is then built with \`go install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}\` into ${cacheDir()}.`,
    );
    this.name = 'TemporalCliNotFound';
  }
}

/** Returns the path of a usable binary without building anything, or undefined. */
export function findTemporalCli(): string | undefined {
  const explicit = process.env.TEMPORAL_CLI_PATH;
  if (explicit) {
    if (!isExecutable(explicit))
      throw new TemporalCliNotFound(`TEMPORAL_CLI_PATH=${explicit} is not an executable file`);
    return explicit;
  }
  return onPath('temporal') ?? (isExecutable(cachedBinaryPath()) ? cachedBinaryPath() : undefined);
}

/** Finds the binary, building it with Go on first need (a few minutes, with progress on stderr). */
export async function resolveTemporalCli(): Promise<string> {
  const found = findTemporalCli();
  if (found) return found;
  const go = onPath('go');
  if (!go) throw new TemporalCliNotFound('no binary, and no `go` on PATH to build one');
  await goInstall(
    go,
    [`${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`],
    cacheDir(),
    `the Temporal CLI ${TEMPORAL_CLI_VERSION}`,
  ).catch((err: unknown) => {
    throw new TemporalCliNotFound(err instanceof Error ? err.message : String(err));
  });
  if (!isExecutable(cachedBinaryPath()))
    throw new TemporalCliNotFound(`go install finished but ${cachedBinaryPath()} is missing`);
  return cachedBinaryPath();
}

/** `go install` of the given packages into dir, with progress on stderr (a few minutes on a first build). */
export async function goInstall(go: string, packages: string[], dir: string, what: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  log.info(`Building ${what} with Go into ${dir} (first run only; takes a few minutes)…`);
  const started = Date.now();
  const ticker = setInterval(
    () => log.info(`…still building ${what} (${Math.round((Date.now() - started) / 1000)} s)`),
    30_000,
  );
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(go, ['install', ...packages], {
        env: { ...process.env, GOBIN: dir },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-4000);
      });
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0
          ? resolve()
          : reject(new Error(`go install exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' ')}`)),
      );
    });
  } finally {
    clearInterval(ticker);
  }
  log.info(`Built ${what} in ${Math.round((Date.now() - started) / 1000)} s.`);
}

/** `go` on PATH, if any. */
export function findGo(): string | undefined {
  return onPath('go');
}

/** Runs the CLI synchronously (for short commands such as `workflow list`). */
export function runTemporalCli(
  binary: string,
  args: string[],
  timeoutMs = 60_000,
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(binary, args, { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
