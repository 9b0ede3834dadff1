/** up --postgres checks every port its Temporal server needs before it starts anything (no server, no database). */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { checkServerPorts, startPostgresStack } from '../../src/postgres-stack';
import { temporalPortRange } from '../support/server-ports';

async function holding<T>(port: number, fn: () => Promise<T>): Promise<T> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  try {
    return await fn();
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

test('a taken neighbour of the frontend port is named, with what to do; free again, the check passes', async () => {
  const base = await temporalPortRange();
  await holding(base + 1, () =>
    expect(checkServerPorts(base)).rejects.toThrow(
      new RegExp(`frontend port ${base} also needs port ${base + 1} \\(history\\).*AGENT_RUNTIME_TEMPORAL_PORT`),
    ),
  );
  await expect(checkServerPorts(base)).resolves.toBeUndefined();
});

test('up --postgres stops at the check: nothing is started or written when a port is taken', async () => {
  const base = await temporalPortRange();
  const membership = 20_000 + (base % 10_000);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'server-ports-'));
  try {
    await holding(membership + 2, () =>
      expect(
        startPostgresStack({ home, temporalPort: base, uiPort: base + 50, namespace: 'default', pgPort: 1 }),
      ).rejects.toThrow(`${membership + 2} (matching membership)`),
    );
    expect(fs.readdirSync(home)).toEqual([]);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});
