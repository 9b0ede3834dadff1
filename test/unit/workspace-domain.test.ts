/** The workspace's pure logic: claims, marks bound to claims, leases, cycles, gates, packing. */
import * as ws from '../../src/domain/workspace';

const now = 1_700_000_000_000;
function fresh(): ws.WsState {
  const s = ws.newWorkspace('unit');
  ws.createTree(
    s,
    {
      id: 'root',
      title: 'root',
      join_mode: 'also',
      children: [
        { id: 'a', title: 'a' },
        { id: 'b', title: 'b' },
      ],
    },
    undefined,
    'contains',
    undefined,
    null,
    now,
  );
  return s;
}

test('a claim and the marks made for it end in one step, by completion or by the lease timer', () => {
  const s = fresh();
  ws.claim(s, { worker_id: 'w1', task: 'a', lease_ms: 1000 }, now);
  ws.markFiles(s, { agent: 'w1', files: ['lock:src/./x.ts', 'src/y.ts'], task: 'a' }, now);
  ws.markFiles(s, { agent: 'w1', files: ['notes.md'] }, now);
  expect(ws.listMarks(s, {}).map((m) => m.file)).toEqual(['src/x.ts', 'src/y.ts', 'notes.md']);
  expect(() => ws.markFiles(s, { agent: 'w2', files: ['src/x.ts'] }, now)).toThrow(/locked by w1/);
  expect(ws.nextDeadline(s)).toBe(now + 1000);
  expect(ws.expire(s, now + 999).tasks).toEqual([]);
  // Any call of the holder renews its lease.
  ws.thinking(s, 'w1', 'still here', now + 900);
  expect(ws.expire(s, now + 1500).tasks).toEqual([]);
  expect(ws.expire(s, now + 1900).tasks).toEqual(['a']);
  expect(s.tasks.a).toMatchObject({ status: 'pending', worker_id: null, token: 1 });
  expect(ws.listMarks(s, {}).map((m) => m.file)).toEqual(['notes.md']);
  ws.claim(s, { worker_id: 'w2', task: 'a' }, now + 2000);
  ws.markFiles(s, { agent: 'w2', files: ['src/x.ts'], task: 'a' }, now + 2000);
  ws.updateTask(s, { worker_id: 'w2', task: 'a', status: 'completed' }, now + 3000);
  expect(s.tasks.a).toMatchObject({ status: 'completed', done_by: 'w2', time_actual_ms: 1000 + 999 + 1 - 1000 });
  expect(ws.listMarks(s, { agent: 'w2' })).toEqual([]);
  // The untasked mark has its own TTL.
  expect(ws.expire(s, now + 3600_000 + 1).marks).toBe(1);
});

test('claims are fenced, blocked, tag-checked and picked by priority', () => {
  const s = fresh();
  ws.createTask(s, { id: 'c', title: 'c', priority: 9, needed_tags: ['rust'] }, null, now);
  ws.createTask(s, { id: 'd', title: 'd', priority: 7 }, null, now);
  ws.link(s, ['d'], ['b'], 'blocks');
  expect(() => ws.checkClaim(s, { worker_id: 'w', task: 'b' })).toThrow(/blocked by d/);
  expect(() => ws.checkClaim(s, { worker_id: 'w', task: 'c' })).toThrow(/lacks the tags/);
  expect(ws.claim(s, { worker_id: 'w' }, now).task?.id).toBe('d');
  expect(() => ws.checkClaim(s, { worker_id: 'x', task: 'd' })).toThrow(/claimed by w/);
  expect(() => ws.checkUpdate(s, { worker_id: 'x', task: 'd', status: 'completed' })).toThrow(/claimed by w/);
  const done = ws.updateTask(s, { worker_id: 'w', task: 'd', status: 'completed' }, now);
  expect(done.unblocked).toEqual(['b']);
  expect(ws.claim(s, { worker_id: 'w' }, now).task?.id).toBe('a');
  expect(ws.link(s, ['b'], ['d'], 'blocks').errors[0]?.error).toMatch(/Cycle/);
  expect(() => ws.checkLink(s, ['b'], ['d'], 'follows')).toThrow(/Cycle/);
});

test("gates reject, warn or allow by the worker's workflow", () => {
  const s = fresh();
  ws.connect(s, { worker_id: 'r', workflow: 'relay' }, now);
  ws.claim(s, { worker_id: 'r', task: 'a' }, now);
  expect(() => ws.checkUpdate(s, { worker_id: 'r', task: 'a', status: 'completed' })).toThrow(/gate\/handoff/);
  // Releasing is never gated.
  expect(() => ws.checkUpdate(s, { worker_id: 'r', task: 'a', status: 'pending' })).not.toThrow();
  ws.attach(s, { agent: 'r', task: 'a', type: 'gate/handoff', content: 'ok' }, now);
  expect(ws.checkGates(s, s.tasks.a!, 'r').can_proceed).toBe(true);
  ws.connect(s, { worker_id: 'h', workflow: 'hierarchical' }, now);
  ws.claim(s, { worker_id: 'h', task: 'b' }, now);
  expect(ws.updateTask(s, { worker_id: 'h', task: 'b', status: 'completed' }, now).warnings[0]).toMatch(/gate\/tests/);
});

test('paths are normalized; lock: makes a mark exclusive', () => {
  expect(ws.normalizePath('lock: ./src//a/../b.ts')).toEqual({ file: 'src/b.ts', exclusive: true });
  expect(ws.normalizePath('src\\win\\c.ts')).toEqual({ file: 'src/win/c.ts', exclusive: false });
});

test('10,000 packed task rows survive a round trip and fit well under the 2 MB continue-as-new limit', () => {
  const s = ws.newWorkspace('big');
  ws.createTree(
    s,
    {
      title: 'root',
      join_mode: 'also',
      children: Array.from({ length: 9_999 }, (_, n) => ({ title: `item ${n}`, tags: ['x'] })),
    },
    undefined,
    'contains',
    undefined,
    null,
    now,
  );
  ws.claim(s, { worker_id: 'w' }, now + 5);
  ws.renameTask(s, 't3', 'renamed', now + 6);
  const packed = ws.packTasks(s.tasks);
  expect(JSON.stringify(packed).length).toBeLessThan(600_000);
  expect(JSON.stringify(ws.unpackTasks(JSON.parse(JSON.stringify(packed)) as ws.PackedTasks))).toEqual(
    JSON.stringify(s.tasks),
  );
});

test("mark_updates' watchers are taken once, at the first change by someone else; a poller the log outran is told", () => {
  const s = fresh();
  ws.connect(s, { worker_id: 'w1' }, now);
  ws.connect(s, { worker_id: 'w2' }, now);
  // Nothing to answer: w1 waits; its own change does not wake it, w2's does, once.
  expect(ws.markUpdates(s, 'w1', now, true)).toEqual({ changes: [], count: 0, cursor: 0 });
  ws.markFiles(s, { agent: 'w1', files: ['mine.ts'] }, now);
  expect(ws.takeMarkWatchers(s)).toEqual([]);
  ws.markFiles(s, { agent: 'w2', files: ['theirs.ts'] }, now);
  expect(ws.takeMarkWatchers(s)).toEqual(['w1']);
  ws.unmarkFiles(s, { agent: 'w2', files: ['theirs.ts'] }, now);
  expect(ws.takeMarkWatchers(s)).toEqual([]);
  // With something to answer, or without watch, nobody is noted.
  expect(ws.markUpdates(s, 'w1', now, true).changes.map((c) => c.action)).toEqual(['marked', 'unmarked']);
  ws.markFiles(s, { agent: 'w2', files: ['again.ts'] }, now);
  expect(ws.takeMarkWatchers(s)).toEqual([]);
  ws.markUpdates(s, 'w1', now, true);
  ws.markUpdates(s, 'w1', now, true);
  expect(s.watchers).toEqual(['w1']);
  ws.markUpdates(s, 'w1', now);
  expect(s.watchers).toEqual([]);
  ws.markUpdates(s, 'w1', now, true);
  ws.disconnect(s, 'w1', undefined, now);
  expect(s.watchers).toEqual([]);
  // w2 has not looked since it connected; 1,500 changes by w1 later, the log holds the last 1,000.
  ws.markUpdates(s, 'w2', now);
  for (let n = 0; n < 750; n++) {
    ws.markFiles(s, { agent: 'w1', files: [`f${n}.ts`] }, now);
    ws.unmarkFiles(s, { agent: 'w1', files: [`f${n}.ts`] }, now);
  }
  const late = ws.markUpdates(s, 'w2', now, true);
  expect(late).toMatchObject({ count: 1_000, missed: 500 });
  expect(s.watchers).toEqual([]);
  expect(ws.markUpdates(s, 'w2', now)).toEqual({ changes: [], count: 0, cursor: late.cursor });
});
