/**
 * npm run screenshots: remakes the Web UI screenshots in docs/screenshots. Starts a private stack (an in-memory dev
 * server with its Web UI, a worker), fills it as agents would through MCP (a goal mid-flight, a project, a relay, an
 * open breaker, a task-graph workspace), then photographs each workflow's page and the workflow list filtered by
 * ArEntity with Debian's headless chromium (CHROMIUM to use another binary). Nothing is left running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { loadConfig } from './config';
import { LazyClient } from './client/connection';
import { createGoalsClient, type GoalsClient } from './client/goals';
import { freePort, startDevServer } from './dev-server';
import { createServer } from './mcp/server';
import { resolveTemporalCli } from './temporal-cli';
import { startWorker } from './worker';

const say = (m: string): void => void process.stderr.write(`[screenshots] ${m}\n`);

async function mcpFor(goals: GoalsClient, toolsets: string[], agentId?: string): Promise<McpClient> {
  const server = createServer({ goals, toolsets, context: { agentId } });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new McpClient({ name: 'screenshots', version: '1' });
  await client.connect(clientSide);
  return client;
}

interface Out {
  id: string;
  pipeline_id: string;
  step: { id: string };
}

async function tool(mcp: McpClient, name: string, args: Record<string, unknown>): Promise<Out> {
  const r = await mcp.callTool({ name, arguments: args });
  if (r.isError) throw new Error(`${name}: ${JSON.stringify(r.content)}`);
  return r.structuredContent as Out;
}

function chromium(): string {
  const candidates = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  const found = candidates.find((c): c is string => c !== undefined && fs.existsSync(c));
  if (!found) {
    throw new Error(
      'No chromium found. Install it with `apt-get install chromium`, or set CHROMIUM to a Chrome binary.',
    );
  }
  return found;
}

/** A headless browser driven over the DevTools protocol: open a page, let the app render, photograph it. */
class Browser {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(
    private readonly proc: ChildProcess,
    private readonly ws: WebSocket,
    private readonly profile: string,
  ) {
    ws.addEventListener('message', (ev: MessageEvent) => {
      const msg = JSON.parse(String(ev.data)) as { id?: number; result?: unknown; error?: { message: string } };
      const p = msg.id !== undefined ? this.pending.get(msg.id) : undefined;
      if (!p) return;
      this.pending.delete(msg.id as number);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    });
  }

  static async launch(binary: string): Promise<Browser> {
    if (typeof WebSocket === 'undefined') {
      throw new Error(
        'This Node has no WebSocket: run with `node --experimental-websocket` (npm run screenshots does).',
      );
    }
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-runtime-chromium-'));
    const proc = spawn(binary, [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--hide-scrollbars',
      '--remote-debugging-port=0',
      `--user-data-dir=${profile}`,
      'about:blank',
    ]);
    const url = await new Promise<string>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new Error(`chromium did not start: ${seen.slice(-500)}`)), 30_000);
      proc.stderr?.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    });
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.addEventListener('open', resolve);
      ws.addEventListener('error', () => reject(new Error(`cannot reach chromium at ${url}`)));
    });
    return new Browser(proc, ws, profile);
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<unknown> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  /** Opens `url`, waits `settleMs` for the app to fetch and render, optionally runs `script`, saves a PNG. */
  async shoot(url: string, file: string, settleMs = 4_000, script?: string): Promise<void> {
    const { targetId } = (await this.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const { sessionId } = (await this.send('Target.attachToTarget', { targetId, flatten: true })) as {
      sessionId: string;
    };
    await this.send(
      'Emulation.setDeviceMetricsOverride',
      { width: 1440, height: 1000, deviceScaleFactor: 1, mobile: false },
      sessionId,
    );
    await this.send('Page.enable', {}, sessionId);
    await this.send('Page.navigate', { url }, sessionId);
    await new Promise((r) => setTimeout(r, settleMs));
    if (script) {
      await this.send('Runtime.evaluate', { expression: script, awaitPromise: true }, sessionId);
      await new Promise((r) => setTimeout(r, 1_500));
    }
    const { data } = (await this.send(
      'Page.captureScreenshot',
      { format: 'png', captureBeyondViewport: false },
      sessionId,
    )) as {
      data: string;
    };
    fs.writeFileSync(file, Buffer.from(data, 'base64'));
    await this.send('Target.closeTarget', { targetId });
    say(`  ${path.relative(process.cwd(), file)}  ←  ${url}`);
  }

  async close(): Promise<void> {
    await this.send('Browser.close').catch(() => undefined);
    this.ws.close();
    await new Promise((r) => (this.proc.exitCode !== null ? r(undefined) : this.proc.once('exit', r)));
    fs.rmSync(this.profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
}

/** Opens the workflow page's "User Metadata" section, where the summary and current details are. */
const OPEN_USER_METADATA = `(() => {
  const el = [...document.querySelectorAll('button, summary, [role=button], a, h2, h3, span')]
    .find((e) => /user metadata/i.test(e.textContent || '') && (e.textContent || '').length < 40);
  if (el) el.click();
  return Boolean(el);
})()`;

async function main(): Promise<void> {
  const outDir = process.env.AGENT_RUNTIME_SCREENSHOTS_DIR ?? path.join(process.cwd(), 'docs', 'screenshots');
  const binary = chromium();
  fs.mkdirSync(outDir, { recursive: true });
  say('starting a private Temporal dev server with its Web UI…');
  const uiPort = await freePort();
  const server = await startDevServer({ binary: await resolveTemporalCli(), port: await freePort(), uiPort });
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const config = { ...loadConfig({ TEMPORAL_ADDRESS: server.address }), taskQueue: 'screenshots' };
  const worker = await startWorker(config);
  const lazy = new LazyClient(config);
  try {
    const goals = createGoalsClient({ client: () => lazy.get(), taskQueue: config.taskQueue, address: server.address });
    const lead = await mcpFor(goals, ['all'], 'lead');
    const [alice, bob] = [await mcpFor(goals, ['all'], 'alice'), await mcpFor(goals, ['all'], 'bob')];
    say('filling it as agents would…');
    const goal = await tool(lead, 'create_goal', {
      name: 'Checkout flow',
      goal_id: 'checkout',
      description: 'Ship it.',
    });
    await tool(lead, 'decompose_goal', {
      goal_id: goal.id,
      tasks: [
        { title: 'Design the payment API', priority: 90 },
        { title: 'Implement the payment API', dependencies: [0], priority: 80 },
        { title: 'Build the checkout form', priority: 70, scope: 'src/ui' },
        { title: 'Wire the form to the API', dependencies: [1, 2], priority: 60 },
        { title: 'Load-test the checkout', priority: 40 },
      ],
    });
    const a = await tool(alice, 'get_next_task', { goal_id: goal.id, lease_seconds: 900 });
    await tool(alice, 'update_task_status', { task_id: a.id, status: 'in_progress' });
    const b = await tool(bob, 'get_next_task', { goal_id: goal.id, lease_seconds: 900 });
    await tool(bob, 'update_task_status', { task_id: b.id, status: 'failed', error: 'stripe sandbox down' });
    await tool(lead, 'create_project', {
      name: 'api-v2',
      base_commit: 'a1b2c3d',
      steps: JSON.stringify([
        { step_num: 1, branch: 'feat/schema', scope: 'db' },
        { step_num: 2, branch: 'feat/endpoints', scope: 'api', depends_on: [1] },
        { step_num: 3, branch: 'feat/docs', scope: 'docs' },
      ]),
    });
    const step = await tool(alice, 'claim_step', { project: 'api-v2', agent_id: 'alice' });
    await tool(alice, 'complete_step', { step_id: step.step.id, agent_id: 'alice', commit_hash: '9f3c2e1a7b4d' });
    await tool(bob, 'claim_step', { project: 'api-v2', agent_id: 'bob' });
    const relay = await tool(lead, 'create_relay_pipeline', {
      name: 'Research brief',
      goal: 'A brief on payment providers',
      agent_types: ['researcher', 'analyst', 'writer'],
    });
    await tool(lead, 'advance_relay', {
      pipeline_id: relay.pipeline_id,
      quality_score: 0.9,
      l_score: 0.7,
      tokens_used: 1200,
    });
    for (let i = 0; i < 5; i++) {
      await tool(lead, 'circuit_breaker_record_failure', {
        agent_id: 'flaky-coder',
        failure_type: 'timeout',
        error_message: `timeout ${i}`,
      });
    }
    const tg = await mcpFor(goals, ['task-graph']);
    await tool(tg, 'create_tree', {
      workspace: 'browser',
      tree: {
        title: 'Browser engine',
        join_mode: 'also',
        children: ['HTML parser', 'CSS cascade', 'Layout', 'Paint', 'Networking'].map((title) => ({ title })),
      },
    });
    await tool(tg, 'connect', { workspace: 'browser', worker_id: 'swift-otter-101', tags: ['code'] });
    await tool(tg, 'claim', { workspace: 'browser', worker_id: 'swift-otter-101', files: ['src/html/tokenizer.rs'] });
    await new Promise((r) => setTimeout(r, 2_500)); // Visibility and the details catch up

    const client = await lazy.get();
    const ui = `http://127.0.0.1:${uiPort}/namespaces/default`;
    const browser = await Browser.launch(binary);
    const page = async (workflowId: string, file: string) => {
      const { runId } = await client.workflow.getHandle(workflowId).describe();
      const url = `${ui}/workflows/${encodeURIComponent(workflowId)}/${runId}/history`;
      await browser.shoot(url, path.join(outDir, file), 4_000, OPEN_USER_METADATA);
    };
    say('photographing…');
    await page(`goal-${goal.id}`, 'goal.png');
    await page('goal-api-v2', 'project.png');
    await page(`relay-${relay.pipeline_id}`, 'relay.png');
    await page('breaker-flaky-coder', 'breaker.png');
    await page('workspace-browser', 'workspace.png');
    await browser.shoot(
      `${ui}/workflows?query=${encodeURIComponent("ArEntity='goal'")}`,
      path.join(outDir, 'list-goals.png'),
    );
    await browser.close();
    for (const c of [lead, alice, bob, tg]) await c.close();
  } finally {
    await worker.shutdown();
    await lazy.close();
    await server.stop();
  }
  say(`done: ${outDir}`);
}

// Node 20 has WebSocket only behind a flag (22+ has it on): run again with it when needed.
if (typeof WebSocket === 'undefined' && !process.execArgv.includes('--experimental-websocket')) {
  const child = spawn(process.execPath, ['--experimental-websocket', __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  child.on('exit', (code) => process.exit(code ?? 1));
} else {
  main().catch((err: unknown) => {
    say(`failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
