/** Relay pipelines as pure functions: gates, retries, budget, baton and prompt. */
import { codeOf } from '../support/domain';
import * as r from '../../src/domain/relay';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const make = (extra: Partial<r.CreateRelayInput> = {}) =>
  r.newRelayState({ pipelineId: 'p', name: 'P', goal: 'G', agentTypes: ['researcher', 'validator'], ...extra }, T0);

test('thresholds: defaults by agent type, overridable per pipeline type and per step index', () => {
  expect(r.thresholdFor('validator', 1)).toBe(0.8);
  expect(r.thresholdFor('poet', 0)).toBe(0.6);
  expect(r.thresholdFor('validator', 1, { validator: 0.9 })).toBe(0.9);
  expect(r.thresholdFor('validator', 1, { validator: 0.9, '1': 0.5 })).toBe(0.5);
});

test('the first baton exists at creation and carries a ready prompt', () => {
  const b = r.batonOf(make());
  expect(b).toMatchObject({
    baton_id: 'p:0:0',
    sequence_position: 1,
    total_agents: 2,
    agent_type: 'researcher',
    max_output_tokens: 50_000,
  });
  expect(b?.prompt).toContain('advance_relay(pipeline_id="p"');
  expect(r.batonOf(make(), 'generalist')?.prompt).toContain('generalist (standing in for the researcher');
});

test('the gate needs both quality and l-score; the l-score floor is 0.3', () => {
  const s = make();
  expect(r.advance(s, { qualityScore: 0.9, lScore: 0.29, tokensUsed: 1 }, T0).outcome).toBe('gate_failed');
  expect(s.status).toBe('awaiting_retry');
  expect(codeOf(() => r.advance(s, { qualityScore: 0.9, lScore: 0.9, tokensUsed: 1 }, T0))).toBe('CONFLICT');
  r.retryStep(s, 0, T0);
  expect(r.advance(s, { qualityScore: 0.6, lScore: 0.3, tokensUsed: 1 }, T0).outcome).toBe('advanced');
  expect(r.batonOf(s)?.l_score_chain).toEqual([0.3]);
});

test('retries are counted per step and bounded', () => {
  const s = make({ maxRetries: 1 });
  r.advance(s, { qualityScore: 0.1, lScore: 0.5, tokensUsed: 1 }, T0);
  r.retryStep(s, 0, T0);
  expect(r.advance(s, { qualityScore: 0.1, lScore: 0.5, tokensUsed: 1 }, T0).outcome).toBe('pipeline_failed');
  expect(codeOf(() => r.checkRetry(s, 0))).toBe('RETRY_EXHAUSTED');
  expect(codeOf(() => r.checkRetry(s, 5))).toBe('INVALID_ARGUMENT');
});

test('the token budget is enforced', () => {
  const s = make({ tokenBudget: 10 });
  expect(r.advance(s, { qualityScore: 0.9, lScore: 0.9, tokensUsed: 11 }, T0).outcome).toBe('pipeline_failed');
  expect(s.failure_reason).toMatch(/token budget exceeded: 11 tokens used of 10/);
});

test('a claim fences other agents until its lease ends', () => {
  const s = make();
  r.claimStep(s, { agentId: 'a', leaseSeconds: 10 }, T0);
  expect(codeOf(() => r.claimStep(s, { agentId: 'b' }, T0))).toBe('CONFLICT');
  expect(codeOf(() => r.advance(s, { qualityScore: 1, lScore: 1, tokensUsed: 1, agentId: 'b' }, T0))).toBe(
    'LEASE_LOST',
  );
  expect(r.expireClaim(s, T0 + 10_000)).toBe(true);
  expect(r.claimStep(s, { agentId: 'b' }, T0 + 10_000).agent_id).toBe('b');
});

test('status view and details', () => {
  const s = make();
  r.advance(s, { qualityScore: 0.8, lScore: 0.4, tokensUsed: 100 }, T0 + 1000);
  const v = r.statusView(s);
  expect(v).toMatchObject({ progress_percent: 50, current_step: 1, average_quality: 0.8, tokens_remaining: 99_900 });
  expect(v.steps[0]?.duration_ms).toBe(1000);
  const md = r.renderRelayDetails(s);
  expect(md).toContain('| 0 | researcher | ✅ passed | 0.8 | 0.4 |  |');
  // One numbering everywhere: the step_index retry_relay_step takes.
  expect(md).toContain('current step_index 1 of steps 0–');
  expect(md).toContain('| step_index |');
});
