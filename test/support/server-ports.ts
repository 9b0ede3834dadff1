/** Ports for a Temporal server of `up --postgres` in tests. */
import { serverEnvironment } from '../../src/postgres-stack';
import { canBind } from '../../src/ports';

/**
 * A frontend port whose server also binds every port derived from it (history, matching, worker, HTTP, membership:
 * serverEnvironment), all below the kernel's ephemeral range: a free port from the OS lies inside it, and a neighbour
 * of it could be taken by any outgoing connection between the check and the bind (it was once: "bind: address already
 * in use" for the history service).
 */
export async function temporalPortRange(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = 10_000 + Math.floor(Math.random() * 9_900);
    const env = serverEnvironment({ host: '127.0.0.1', port: 0, user: '', password: '' }, base);
    const derived = Object.entries(env)
      .filter(([k]) => k.endsWith('_PORT'))
      .map(([, v]) => Number(v));
    if ((await Promise.all(derived.map((port) => canBind('127.0.0.1', port)))).every(Boolean)) return base;
  }
  throw new Error('no free range of ports for the Temporal server below 20000');
}
