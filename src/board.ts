/**
 * `agent-runtime board [--watch]`: agents (status, current task, thought, unread messages, last call), goals
 * (progress) and open breakers, as a terminal table; with --watch it redraws in place every 2 s until Ctrl-C.
 */
import { createAgentsClient } from './client/agents';
import { createBreakersClient } from './client/breakers';
import type { GoalsClient } from './client/goals';

const age = (iso: string, now: number): string => {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 90 ? `${s}s` : s < 5400 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
};
const cut = (text: string, width: number): string => (text.length > width ? `${text.slice(0, width - 1)}…` : text);

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

export async function renderBoard(goals: GoalsClient, now = Date.now()): Promise<string> {
  const [agents, indexed, breakers] = await Promise.all([
    createAgentsClient(goals).board(),
    goals.listIndexed(`ArEntity = 'goal' AND ExecutionStatus = 'Running'`, 200),
    createBreakersClient(goals).list(),
  ]);
  const out = [`agent-runtime board — ${new Date(now).toISOString()} (task queue ${goals.taskQueue})`, ''];
  out.push(`Agents (${agents.filter((a) => a.online).length} online of ${agents.length})`);
  out.push(
    ...table(
      ['agent', 'status', 'current task', 'thought', 'unread', 'done', 'last call'],
      agents.map((a) => [
        a.agent_id,
        a.status,
        a.current_task ? cut(`${a.current_task.id} ${a.current_task.title}`, 40) : '',
        cut(a.current_thought ?? '', 30),
        String(a.pending_messages),
        String(a.completed_tasks),
        age(a.last_heartbeat, now),
      ]),
    ),
    '',
  );
  out.push(`Goals (${indexed.length} running)`);
  out.push(
    ...table(
      ['goal', 'status', 'progress', 'ready', 'priority'],
      indexed.map((g) => [
        cut(g.id, 40),
        g.status,
        `${Math.round(g.progress * 100)}%`,
        String(g.readyCount),
        String(g.priority),
      ]),
    ),
    '',
  );
  const open = [...breakers.open, ...breakers.half_open];
  out.push(`Circuit breakers (${open.length} not closed of ${breakers.total})`);
  if (open.length > 0) {
    out.push(
      ...table(
        ['agent', 'state', 'failures in window', 'fallback'],
        open.map((b) => [b.agent_id, b.state, String(b.failures_in_window), b.config.fallback_agent]),
      ),
    );
  }
  return out.join('\n');
}

export async function runBoard(goals: GoalsClient, watch: boolean): Promise<void> {
  if (!watch) {
    process.stdout.write(`${await renderBoard(goals)}\n`);
    return;
  }
  for (;;) {
    const text = await renderBoard(goals).catch(
      (err: unknown) => `board: ${err instanceof Error ? err.message : String(err)}`,
    );
    process.stdout.write(`\x1b[H\x1b[2J${text}\n\n(refreshing every 2 s; Ctrl-C to stop)\n`);
    await new Promise((r) => setTimeout(r, 2_000));
  }
}
