/**
 * The tool list agents pay for in context: every tool says what it is for and how it behaves, and the lists stay
 * within their budgets (sizes are deterministic, so this is a check, not a timing).
 */
import { z } from 'zod';
import { ALL_TOOLSETS, DEFAULT_TOOLSETS } from '../../src/config';
import type { GoalsClient } from '../../src/client/goals';
import { buildRegistry, selectTools } from '../../src/mcp/server';

const goals = { taskQueue: 'unit' } as unknown as GoalsClient;
const listingOf = (toolsets: string[], withOutputSchemas = false) => {
  const reg = buildRegistry({ goals, toolsets }, withOutputSchemas);
  return selectTools(reg.tools, toolsets).map((t) => reg.listing.get(t)!);
};
const bytes = (list: unknown[]) => Buffer.byteLength(JSON.stringify({ tools: list }));

test('every tool of every toolset has a description and its annotation hints', () => {
  const reg = buildRegistry({ goals, toolsets: ['all'] });
  for (const t of reg.tools) {
    expect({ name: t.name, long: t.description.length >= 30 }).toEqual({ name: t.name, long: true });
    const writes = t.annotations.readOnlyHint !== true;
    const hints = writes
      ? (['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const)
      : (['readOnlyHint', 'openWorldHint'] as const);
    for (const hint of hints) {
      expect({ name: t.name, hint, set: typeof t.annotations[hint] }).toEqual({ name: t.name, hint, set: 'boolean' });
    }
    // Listed: only the hints that differ from MCP's defaults, and every tool of ours is closed-world.
    expect(reg.listing.get(t)?.annotations?.openWorldHint).toBe(false);
  }
});

test('the default toolsets list in at most 24 KB and every toolset together in at most 60 KB', () => {
  expect(bytes(listingOf([...DEFAULT_TOOLSETS]))).toBeLessThanOrEqual(24 * 1024);
  expect(bytes(listingOf(['all']))).toBeLessThanOrEqual(60 * 1024);
  expect(listingOf(['all']).map((t) => t.name)).toHaveLength(
    new Set(buildRegistry({ goals, toolsets: ['all'] }).tools.map((t) => t.name)).size,
  );
  for (const set of ALL_TOOLSETS) expect(listingOf([set]).length).toBeGreaterThan(0);
});

test('the listing keeps what a model needs: types, enums, bounds, required fields, descriptions', () => {
  const claim = listingOf(['task-graph']).find((t) => t.name === 'claim')!;
  const props = claim.inputSchema.properties as Record<string, Record<string, unknown>>;
  expect(props.task).toEqual({ type: ['string', 'integer'] });
  expect(props.lease_seconds).toMatchObject({ type: 'integer', minimum: 1, maximum: 604800 });
  expect(JSON.stringify(claim.inputSchema)).not.toMatch(/"pattern"|"maxLength"/);
  const link = listingOf(['task-graph']).find((t) => t.name === 'link')!;
  expect((link.inputSchema.properties as any).type.enum).toEqual([
    'blocks',
    'follows',
    'contains',
    'duplicate',
    'see-also',
  ]);
  expect(link.inputSchema.required).toEqual(['from', 'to']);
});

test('with AGENT_RUNTIME_OUTPUT_SCHEMAS=on each tool lists its result fields and their types', () => {
  const reg = buildRegistry({ goals, toolsets: ['all'] }, true);
  for (const t of reg.tools) {
    const listed = reg.listing.get(t)!.outputSchema!;
    const full = z.toJSONSchema(t.output, { io: 'output', unrepresentable: 'any' }) as { properties?: object };
    expect(Object.keys(listed.properties ?? {})).toEqual(Object.keys(full.properties ?? {}));
  }
  const next = reg.listing.get(reg.tools.find((t) => t.name === 'get_next_task')!)!.outputSchema!;
  expect((next.properties as any).lease_token).toEqual({ type: ['number', 'null'] });
});

test('tools that create, claim, append or count again when repeated are not marked idempotent', () => {
  const reg = buildRegistry({ goals, toolsets: ['all'] });
  const hint = (name: string) => reg.tools.find((t) => t.name === name)?.annotations.idempotentHint;
  for (const name of [
    'create_goal',
    'decompose_goal',
    'create_task',
    'get_next_task',
    'create_relay_pipeline',
    'advance_relay',
    'retry_relay_step',
    'circuit_breaker_trip',
    'circuit_breaker_record_failure',
    'claim_step',
    'send_message',
    'complete_task',
    'register_agent',
    'claim',
    'create',
    'attach',
    'log_metrics',
  ]) {
    expect({ name, idempotent: hint(name) }).toEqual({ name, idempotent: false });
  }
  for (const name of ['heartbeat', 'circuit_breaker_reset', 'acknowledge_message', 'connect']) {
    expect({ name, idempotent: hint(name) }).toEqual({ name, idempotent: true });
  }
});
