/**
 * A closed LazyClient stays closed: work still going when its process stops (an offer of queued work, a reservation
 * sent back) is refused at once instead of opening a new connection that nothing would close — which kept a stopped
 * process (and jest's workers) alive for as long as that call waited.
 */
import { LazyClient } from '../../src/client/connection';
import { ClientClosedError, toAppError } from '../../src/client/errors';
import { loadConfig } from '../../src/config';

test('a call after close() is refused at once, as TEMPORAL_UNAVAILABLE with a sentence saying why', async () => {
  // Nothing listens on port 1: a connect attempt would wait out its 3 s timeout before failing.
  const lazy = new LazyClient(loadConfig({ TEMPORAL_ADDRESS: '127.0.0.1:1' }));
  await lazy.close();
  const started = Date.now();
  const err = await lazy.get().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ClientClosedError);
  expect(Date.now() - started).toBeLessThan(500);
  const app = toAppError(err);
  expect(app.code).toBe('TEMPORAL_UNAVAILABLE');
  expect(app.message).toMatch(/closed its Temporal connection/);
  // Closing again is harmless.
  await expect(lazy.close()).resolves.toBeUndefined();
});
