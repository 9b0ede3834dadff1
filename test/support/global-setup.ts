/**
 * One Temporal dev server for the whole run (in memory, headless), started from the project's resolver — or, with
 * AGENT_RUNTIME_TEST_TEMPORAL_ADDRESS, an external server (a cluster, a long-lived dev server) that every test runs
 * against in a namespace of its own run (created with the search attributes; AGENT_RUNTIME_TEST_NAMESPACE names one
 * instead), so a second run never meets the first run's workflows (the shared inbox goal, agents' breakers) bound to
 * task queues nobody polls any more — and the workflow code bundled once so each test's worker starts in milliseconds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { ensureNamespace } from '../../src/client/admin';
import { startDevServer } from '../../src/dev-server';
import { resolveTemporalCli } from '../../src/temporal-cli';
import { workflowBundlerOptions } from '../../src/worker';

export default async function globalSetup(): Promise<void> {
  const binary = await resolveTemporalCli();
  const external = process.env.AGENT_RUNTIME_TEST_TEMPORAL_ADDRESS;
  const server = external ? undefined : await startDevServer({ binary });
  if (external) {
    const namespace =
      process.env.AGENT_RUNTIME_TEST_NAMESPACE ?? `agent-runtime-test-${Date.now().toString(36)}-${process.pid}`;
    const connection = await Connection.connect({ address: external });
    try {
      await ensureNamespace(new Client({ connection, namespace }), namespace, {
        retentionDays: 1,
        onWait: () => process.stderr.write(`[tests] waiting for namespace ${namespace} on ${external}…\n`),
      });
    } finally {
      await connection.close();
    }
    // Every process a test starts (workers, serve, mcp) inherits it.
    process.env.TEMPORAL_NAMESPACE = namespace;
    process.env.TEST_TEMPORAL_NAMESPACE = namespace;
  }
  const dir = path.join(__dirname, '..', '..', '.tmp');
  fs.mkdirSync(dir, { recursive: true });
  const workflowsPath = require.resolve('../../src/workflows');
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    ...workflowBundlerOptions(workflowsPath),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
  });
  const bundle = path.join(dir, 'workflow-bundle.js');
  fs.writeFileSync(bundle, code);
  // Every process a test spawns keeps its daemon file and socket here, never in the user's ~/.agent-runtime.
  process.env.AGENT_RUNTIME_HOME = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-runtime-test-home-'));
  process.env.TEST_TEMPORAL_ADDRESS = external ?? server?.address;
  process.env.TEMPORAL_CLI_PATH = binary;
  process.env.AGENT_RUNTIME_WORKFLOW_BUNDLE = bundle;
  (globalThis as { __devServer?: { stop(): Promise<void> } }).__devServer = server;
}
