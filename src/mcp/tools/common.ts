/** What every tool is made of, and how results and errors look to the model. */
import { z } from 'zod';
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { AppError, toAppError } from '../../client/errors';
import type { AliasesClient } from '../../client/aliases';
import type { GoalsClient } from '../../client/goals';
import type { ErrorCode } from '../../domain/errors';
import { ANONYMOUS_AGENT } from '../../domain/schemas';

export interface ToolContext {
  /** The calling agent when the tool has no agent_id argument: AGENT_ID (stdio) or the HTTP caller's identity. */
  agentId?: string;
  /** The subject of the bearer token the call came with (HTTP with AGENT_RUNTIME_TOKEN). */
  tokenSubject?: string;
  /** The token is an operator's: it may act for other agents. */
  operator?: boolean;
  /** Aborted when the caller disconnects or cancels this call (MCP notifications/cancelled): long-polls stop. */
  signal?: AbortSignal;
}

export interface ToolDeps {
  goals: GoalsClient;
  /** Resolves task references (ids and the bare numbers of imported tasks). */
  refs: AliasesClient;
  /** Record a failure on an agent's breaker when it fails a task or a relay gate (default true). */
  breakerAutoRecord?: boolean;
}

export interface ToolDef<I extends z.ZodObject = z.ZodObject, O extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  toolsets: string[];
  input: I;
  output: O;
  annotations: ToolAnnotations;
  run(args: z.output<I>, ctx: ToolContext): Promise<z.input<O>>;
}

/** Keeps each tool's argument and result types checked while the registry holds them side by side. */
export function defineTool<I extends z.ZodObject, O extends z.ZodObject>(def: ToolDef<I, O>): ToolDef {
  return def;
}

export const RequestIdArg = z
  .string()
  .min(1)
  .max(128)
  .optional()
  .describe('Idempotency key: a retry with the same key is applied once.');

export function okResult(structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
}

/** What to do next, per code, appended when the message does not already say it. */
const NEXT_STEP: Partial<Record<ErrorCode, string>> = {
  INVALID_ARGUMENT: 'Fix the arguments named above and call again.',
  FORBIDDEN: 'Call as yourself (leave agent_id out or give your own), or use an operator token.',
  INTERNAL: 'This is a bug or an unexpected server state; retrying with the same request_id is safe.',
};

export function errorResult(err: unknown): CallToolResult {
  const e = err instanceof AppError ? err : toAppError(err);
  const hint = NEXT_STEP[e.code];
  const message = hint && !e.message.includes(hint) ? `${e.message} ${hint}` : e.message;
  const error: Record<string, unknown> = { code: e.code, message };
  if (e.details) error.details = e.details;
  return { isError: true, content: [{ type: 'text', text: JSON.stringify({ error }) }] };
}

export function invalidArguments(tool: string, error: z.ZodError): AppError {
  const issues = error.issues
    .slice(0, 8)
    .map((i) => ({ path: i.path.map(String).join('.') || '(arguments)', message: i.message }));
  const text = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  return new AppError('INVALID_ARGUMENT', `Invalid arguments for ${tool}: ${text}.`, { issues });
}

/**
 * The caller's identity: the tool's `agent_id` argument, else AGENT_ID (stdio) or the HTTP caller's identity; undefined
 * when it has none at all. Owner actions of a caller without identity act for the current holder.
 */
export function callerIdentity(explicit: string | undefined, ctx: ToolContext): string | undefined {
  return explicit ?? ctx.agentId;
}

/**
 * With tokens, a caller that is no operator acts on its own work only (cancelling or recovering a task another agent
 * holds is refused); without tokens, agents are one user's processes and such acts are allowed and logged.
 */
export function holderOnly(ctx: ToolContext): boolean {
  return ctx.tokenSubject !== undefined && ctx.operator !== true;
}

/** A reason that says who acted, when the caller (as far as it is known) is not the agent acted on. */
export function reasonBy(reason: string | undefined, target: string, ctx: ToolContext): string | undefined {
  const by = ctx.tokenSubject ?? ctx.agentId;
  if (by === undefined || by === target) return reason;
  return `${reason ?? 'no reason given'} (by ${by})`;
}

/** Who a claim is made for: the caller's identity, or `anonymous`. */
export function resolveAgent(explicit: string | undefined, ctx: ToolContext): string {
  return callerIdentity(explicit, ctx) ?? ANONYMOUS_AGENT;
}
