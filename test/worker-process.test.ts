/**
 * The worker as a supervisor sees it: it stops cleanly on SIGTERM (exit 0), and one pointed at a namespace that does
 * not exist says so and exits non-zero at once instead of polling and logging forever.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../src/dev-server';
import { eventually, ROOT, startHarness, uid, type Harness } from './support/harness';

const CLI = path.join(ROOT, 'dist', 'cli.js');
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ worker: false });
});
afterAll(async () => {
  await h.close();
});

function worker(env: Record<string, string>) {
  const child = spawn(process.execPath, [CLI, 'worker'], {
    env: { ...(process.env as Record<string, string>), TEMPORAL_ADDRESS: h.config.temporalAddress, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => err };
}

test('SIGTERM stops a running worker cleanly, with exit code 0', async () => {
  const w = worker({ AGENT_RUNTIME_TASK_QUEUE: h.config.taskQueue });
  await eventually(async () => ((await h.goals.health()).workers ?? 0) > 0, 60_000);
  const t = Date.now();
  w.child.kill('SIGTERM');
  expect(await w.exited).toBe(0);
  expect(Date.now() - t).toBeLessThan(15_000);
});

test('a namespace that does not exist: a clear message and a non-zero exit, not endless polling', async () => {
  const w = worker({ AGENT_RUNTIME_TASK_QUEUE: uid('q'), TEMPORAL_NAMESPACE: 'no-such-namespace' });
  const code = await w.exited;
  expect(code).not.toBe(0);
  expect(w.stderr()).toContain('Namespace "no-such-namespace" does not exist');
});

test('no Temporal at the address, or a TLS file that cannot be read: a sentence saying what to do, and exit 1', async () => {
  const dead = worker({ AGENT_RUNTIME_TASK_QUEUE: uid('q'), TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` });
  expect(await dead.exited).toBe(1);
  expect(dead.stderr()).toContain('No Temporal server answers at 127.0.0.1:');
  expect(dead.stderr()).toContain('set TEMPORAL_ADDRESS to a running Temporal server');
  expect(dead.stderr()).not.toContain('tonic::transport');

  const tls = worker({
    AGENT_RUNTIME_TASK_QUEUE: uid('q'),
    TEMPORAL_TLS_CERT: '/no/such/client.pem',
    TEMPORAL_TLS_KEY: '/no/such/client.key',
  });
  expect(await tls.exited).toBe(1);
  expect(tls.stderr()).toContain(
    'TEMPORAL_TLS_CERT names /no/such/client.pem, which cannot be read (ENOENT): give the path of the client certificate (PEM).',
  );
}, 60_000);
