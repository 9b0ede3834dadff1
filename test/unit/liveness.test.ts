/**
 * Busy is not gone: a Temporal whose port accepts connections but whose health check goes unanswered (overloaded)
 * keeps calls waiting for up to the busy limit; a port nobody listens on is TEMPORAL_UNAVAILABLE at the first check.
 * No Temporal needed: a TCP server that accepts and never answers stands in for an overloaded one.
 */
import net from 'node:net';
import { loadConfig } from '../../src/config';
import { LazyClient } from '../../src/client/connection';
import { AppError } from '../../src/client/errors';
import { accepts, bounded, createLiveness, type Liveness } from '../../src/client/liveness';

let silent: net.Server;
let silentAddress: string;
const sockets = new Set<net.Socket>();
let closedAddress: string;

beforeAll(async () => {
  silent = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentAddress = `127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedAddress = `127.0.0.1:${(probe.address() as net.AddressInfo).port}`;
  await new Promise((resolve) => probe.close(resolve));
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

/** The project's own client (its retries stop when it closes), pointed at `address`. */
function livenessAt(address: string, busyLimitMs: number) {
  const client = new LazyClient(loadConfig({ TEMPORAL_ADDRESS: address }));
  return { client, liveness: createLiveness({ client: () => client.get(), taskQueue: 'q', address, busyLimitMs }) };
}

const never = () => new Promise<never>(() => undefined);

test('accepts() tells a listening port from a closed one', async () => {
  expect(await accepts(silentAddress)).toBe(true);
  expect(await accepts(closedAddress)).toBe(false);
  expect(await accepts('not-an-address')).toBe(false);
});

test('a server that accepts but does not answer keeps a call waiting until the busy limit, then says unavailable', async () => {
  const { client, liveness } = livenessAt(silentAddress, 4_000);
  try {
    const started = Date.now();
    const err = await bounded(never(), liveness, { taskQueue: 'q', address: silentAddress, entity: 'Goal g' }).catch(
      (e: unknown) => e,
    );
    const ms = Date.now() - started;
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('TEMPORAL_UNAVAILABLE');
    // Checks at 1 s, 4 s (busy: still waiting), 7 s (past the 4 s limit): not at the first check.
    expect(ms).toBeGreaterThanOrEqual(4_000);
  } finally {
    await client.close();
  }
}, 20_000);

test('a port nobody listens on is unavailable at the first check', async () => {
  const { client, liveness } = livenessAt(closedAddress, 60_000);
  try {
    const started = Date.now();
    const err = await bounded(never(), liveness, { taskQueue: 'q', address: closedAddress }).catch((e: unknown) => e);
    expect((err as AppError).code).toBe('TEMPORAL_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(3_000);
  } finally {
    await client.close();
  }
}, 20_000);

test('a workflow on another task queue is waited for while a worker polls that queue, and refused once none does', async () => {
  let oldPollers = 1;
  const liveness: Liveness = {
    recentlyDown: () => false,
    temporal: () => Promise.resolve(true),
    workers: () => Promise.resolve(1), // this server's own queue has its worker
    workersOn: (q) => Promise.resolve(q === 'old' ? oldPollers : 1),
    taskQueueOf: () => Promise.resolve('old'),
  };
  const options = { taskQueue: 'new', workflowId: 'goal-g', entity: 'Goal g' };
  const late = new Promise<string>((resolve) => setTimeout(() => resolve('answered'), 1_500)); // past the first check
  expect(await bounded(late, liveness, options)).toBe('answered');
  oldPollers = 0;
  const err = (await bounded(never(), liveness, options).catch((e: unknown) => e)) as AppError;
  expect(err.code).toBe('NO_WORKER');
  expect(err.message).toMatch(
    /^Goal g runs on task queue "old", which no worker polls; this server's workers poll "new"/,
  );
}, 20_000);
