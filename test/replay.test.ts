/**
 * Replay: the histories under test/histories (recorded from real runs of every workflow type by
 * `npm run record-histories`) replayed against the current workflow code. A change that would make a running
 * workflow take another path (a nondeterminism error on the next worker) fails here; such a change goes behind
 * `patched()` (docs/DECISIONS.md, "Changing workflow code").
 */
import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { workflowSource } from '../src/worker';
import * as workflows from '../src/workflows';
import { quietRuntime } from './support/harness';

const DIR = path.join(__dirname, 'histories');

test('every workflow type has a recorded history, and each replays without a nondeterminism error', async () => {
  quietRuntime();
  // One history per workflow type from the current code, and in each subdirectory those recorded before a patch
  // (their runs take the patch's old path).
  const files = fs.readdirSync(DIR, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json'));
  const histories = files.map((f) => ({
    workflowId: f.replace(/\.json$/, ''),
    history: historyFromJSON(JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8'))),
  }));
  const typeOf = (h: (typeof histories)[number]) =>
    h.history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '(none)';
  const current = histories.filter((h) => !h.workflowId.includes('/'));
  expect(current.map(typeOf).sort()).toEqual(Object.keys(workflows).sort());
  expect(histories.length).toBeGreaterThan(current.length);

  const results: Array<{ workflowId: string; error?: string }> = [];
  for await (const r of Worker.runReplayHistories({ ...workflowSource(), replayName: 'replay-test' }, histories)) {
    results.push({ workflowId: r.workflowId, ...(r.error ? { error: String(r.error) } : {}) });
  }
  expect(results).toEqual(histories.map((h) => ({ workflowId: h.workflowId })));
});
