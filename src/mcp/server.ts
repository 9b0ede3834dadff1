/**
 * createServer(deps): one MCP server with the toolsets asked for. Tools are validated with their zod schemas
 * here (not by the SDK) so that bad input comes back as an isError result with a code and a sentence saying
 * what to do, and never reaches a workflow.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { createAliasesClient } from '../client/aliases';
import { AppError } from '../client/errors';
import type { GoalsClient } from '../client/goals';
import { log } from '../logger';
import { withDigest } from '../domain/request-ids';
import { errorResult, invalidArguments, okResult, type ToolContext, type ToolDef } from './tools/common';
import { agentTools } from './tools/agents';
import { breakerTools } from './tools/breakers';
import { goalTools } from './tools/goals';
import { projectTools } from './tools/projects';
import { relayTools } from './tools/relay';
import { taskGraphTools } from './tools/task-graph';
import { compactInput, listedAnnotations, shallowOutput } from './listing';
import { ALL_TOOLSETS } from '../config';

export const SERVER_NAME = 'agent-runtime';
export const SERVER_VERSION = '0.1.0';

export interface ServerDeps {
  goals: GoalsClient;
  /** Toolset names to list; `all` lists every tool. */
  toolsets: string[];
  context?: ToolContext;
}

export function allTools(deps: ServerDeps): ToolDef[] {
  const toolDeps = { ...deps, refs: createAliasesClient(deps.goals) };
  return [
    ...goalTools(toolDeps),
    ...relayTools(toolDeps),
    ...breakerTools(toolDeps),
    ...projectTools(toolDeps),
    ...agentTools(toolDeps),
    ...taskGraphTools(toolDeps),
  ];
}

/**
 * The tools of some toolsets. Two toolsets may use one name (goals' and task-graph's `list_tasks`, hq's and
 * task-graph's `get_metrics`): the toolset named first wins (`all` lists them in ALL_TOOLSETS order).
 */
export function selectTools(tools: ToolDef[], toolsets: string[]): ToolDef[] {
  const order = toolsets.includes('all') ? [...ALL_TOOLSETS] : toolsets;
  const rank = (t: ToolDef): number => {
    const r = order.findIndex((s) => t.toolsets.includes(s));
    return r < 0 ? Number.POSITIVE_INFINITY : r;
  };
  const chosen = new Map<string, ToolDef>();
  for (const t of tools) {
    if (rank(t) === Number.POSITIVE_INFINITY && !toolsets.includes('all')) continue;
    const prev = chosen.get(t.name);
    if (!prev || rank(t) < rank(prev)) chosen.set(t.name, t);
  }
  return tools.filter((t) => chosen.get(t.name) === t);
}

function jsonSchema(schema: z.ZodObject, io: 'input' | 'output'): Tool['inputSchema'] {
  const full = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  const listed = io === 'input' ? (compactInput(full) as Record<string, unknown>) : shallowOutput(full);
  return { ...listed, type: 'object' };
}

export interface ToolRegistry {
  /** Every tool of every toolset; a request sees those of its toolsets (select). */
  tools: ToolDef[];
  listing: Map<ToolDef, Tool>;
  /** The tools of some toolsets, by name (selectTools), computed once per distinct choice. */
  select(toolsets: string[]): Map<string, ToolDef>;
}

/** Builds the tools and their JSON Schemas once; a stateless HTTP server reuses it for every request. */
export function buildRegistry(
  deps: ServerDeps,
  withOutputSchemas = process.env.AGENT_RUNTIME_OUTPUT_SCHEMAS === 'on',
): ToolRegistry {
  const tools = allTools(deps);
  const selections = new Map<string, Map<string, ToolDef>>();
  return {
    tools,
    select(toolsets) {
      const key = toolsets.join(',');
      let names = selections.get(key);
      if (!names) selections.set(key, (names = new Map(selectTools(tools, toolsets).map((t) => [t.name, t]))));
      return names;
    },
    listing: new Map(
      tools.map((t) => [
        t,
        {
          name: t.name,
          title: t.title,
          description: t.description,
          inputSchema: jsonSchema(t.input, 'input'),
          ...(withOutputSchemas ? { outputSchema: jsonSchema(t.output, 'output') } : {}),
          annotations: listedAnnotations(t.annotations),
        },
      ]),
    ),
  };
}

/** What a tools/call handler reads of the SDK's request context. */
export interface ToolCallExtra {
  authInfo?: AuthInfo;
  signal: AbortSignal;
}

/** Handles a tools/call: the server's handler, which the request/response exchange also calls directly. */
export type ToolCaller = (
  request: { params: { name: string; arguments?: Record<string, unknown> } },
  extra: ToolCallExtra,
) => Promise<CallToolResult>;

/** The toolsets a request sees: its own (a stdio front passes its AGENT_RUNTIME_TOOLSETS to the daemon), else the server's. */
function toolsetsOf(deps: ServerDeps, auth: AuthInfo | undefined): string[] {
  const own = auth?.extra?.toolsets;
  return Array.isArray(own) && own.every((t) => typeof t === 'string') ? own : deps.toolsets;
}

/**
 * The tools/call handler: finds the tool among the caller's toolsets, validates the arguments with its zod schema
 * and runs it. Every outcome, failures included, is a CallToolResult (isError with a code and a sentence).
 */
export function toolCaller(deps: ServerDeps, registry: ToolRegistry): ToolCaller {
  return async (request, extra) => {
    const names = registry.select(toolsetsOf(deps, extra.authInfo));
    const tool = names.get(request.params.name);
    if (!tool) return errorResult(invalidArgumentsForName(request.params.name, [...names.keys()]));
    if (nestingDepth(request.params.arguments, MAX_ARGUMENT_DEPTH) > MAX_ARGUMENT_DEPTH) {
      return errorResult(
        new AppError(
          'INVALID_ARGUMENT',
          `The arguments of ${tool.name} nest deeper than ${MAX_ARGUMENT_DEPTH} levels.`,
        ),
      );
    }
    const parsed = tool.input.safeParse(request.params.arguments ?? {});
    if (!parsed.success) return errorResult(invalidArguments(tool.name, parsed.error));
    const ctx = { ...deps.context, ...callerOf(extra.authInfo), signal: extra.signal };
    const forbidden = impersonation(tool, parsed.data, ctx);
    if (forbidden) return errorResult(forbidden);
    try {
      const out = await tool.run(keyedByCall(tool.name, parsed.data, ctx), ctx);
      return okResult(out);
    } catch (err) {
      const result = errorResult(err);
      log.debug(`tool ${tool.name} failed`, { error: result.content[0] });
      return result;
    }
  };
}

export function createServer(
  deps: ServerDeps,
  registry: ToolRegistry = buildRegistry(deps),
  callTool: ToolCaller = toolCaller(deps, registry),
): McpServer {
  const mcp = new McpServer(
    { name: SERVER_NAME, version: SERVER_VERSION, title: 'agent-runtime' },
    {
      instructions:
        'Durable coordination for teams of agents. Plan: create_goal → decompose_goal. Work: get_next_task → update_task_status(in_progress) → heartbeat while working → update_task_status(completed|failed). Everything survives restarts; ids are stable.',
    },
  );
  mcp.server.registerCapabilities({ tools: { listChanged: false } });
  mcp.server.setRequestHandler(ListToolsRequestSchema, (_request, extra) => {
    const names = registry.select(toolsetsOf(deps, extra.authInfo));
    return { tools: [...names.values()].map((t) => registry.listing.get(t) as Tool) };
  });
  mcp.server.setRequestHandler(CallToolRequestSchema, (request, extra) => callTool(request, extra));

  registerPrompts(mcp);
  return mcp;
}

/**
 * A request_id remembers the call it was first used for: it travels on as `<request_id>~<digest of tool, caller and
 * arguments>`, so a retry is answered with the first result and a reuse for another call is refused (CONFLICT).
 */
function keyedByCall(tool: string, args: Record<string, unknown>, ctx: ToolContext): Record<string, unknown> {
  const { request_id: requestId, ...rest } = args;
  if (typeof requestId !== 'string') return args;
  const caller = ctx.tokenSubject ?? ctx.agentId ?? null;
  return { ...args, request_id: withDigest(requestId, { tool, caller, args: rest }) };
}

/** Arguments nest at most this deep (metadata included): deeper JSON is refused before anything recurses over it. */
const MAX_ARGUMENT_DEPTH = 32;

/** How deep `value` nests, counting no further than `limit` + 1 (iterative: a 100,000-deep value costs little). */
export function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (d > deepest) deepest = d;
    if (deepest > limit) return deepest;
    if (v !== null && typeof v === 'object') {
      for (const child of Object.values(v as Record<string, unknown>)) stack.push([child, d + 1]);
    }
  }
  return deepest;
}

/** The HTTP transport passes the caller's identity per request in authInfo.extra (see http.ts). */
function callerOf(auth: AuthInfo | undefined): ToolContext {
  const agentId = auth?.extra?.agentId;
  const tokenSubject = auth?.extra?.tokenSubject;
  return {
    ...(typeof agentId === 'string' ? { agentId } : {}),
    ...(typeof tokenSubject === 'string' ? { tokenSubject, operator: auth?.extra?.operator === true } : {}),
  };
}

/** The arguments by which a tool names the agent it acts as. */
const ACTING_AS = ['agent_id', 'agent', 'worker_id', 'sender'] as const;

/**
 * With tokens, the token decides who the caller is: a tool that changes something, called with an agent_id (or
 * agent, worker_id, sender) other than the token's subject, is refused unless the token is an operator's. Reads may
 * name any agent.
 */
function impersonation(tool: ToolDef, args: Record<string, unknown>, ctx: ToolContext): AppError | undefined {
  if (ctx.tokenSubject === undefined || ctx.operator || tool.annotations.readOnlyHint === true) return undefined;
  for (const key of ACTING_AS) {
    const named = args[key];
    if (typeof named === 'string' && named !== ctx.tokenSubject) {
      return new AppError(
        'FORBIDDEN',
        `Your token is ${ctx.tokenSubject}'s; ${tool.name} with ${key} "${named}" acts for another agent, which needs an operator token (AGENT_RUNTIME_TOKEN entry operator:<name>:<secret>).`,
      );
    }
  }
  return undefined;
}

function invalidArgumentsForName(name: string, known: string[]): AppError {
  return new AppError(
    'NOT_FOUND',
    `There is no tool "${name}" on this server. Its tools: ${known.join(', ')}. Set AGENT_RUNTIME_TOOLSETS to list others.`,
  );
}

function registerPrompts(mcp: McpServer): void {
  mcp.registerPrompt(
    'plan_goal',
    {
      title: 'Plan a goal',
      description: 'Write a task plan for a goal, ready to submit with decompose_goal(goal_id, tasks=[…]).',
      argsSchema: {
        goal_id: z.string().describe('The goal to plan (from create_goal).'),
        context: z.string().optional().describe('Anything the plan should take into account.'),
      },
    },
    ({ goal_id, context }) => ({
      messages: [
        {
          role: 'user',
          content: {
            type: 'text',
            text: [
              `Plan the work for goal ${goal_id}. First call get_goal("${goal_id}") to read its name and description.`,
              context ? `Take into account: ${context}` : '',
              'Then break it into 3-15 tasks that different agents can do, and submit them in one call:',
              `decompose_goal(goal_id="${goal_id}", tasks=[{ "title": "...", "description": "what done looks like", "priority": 0-100, "dependencies": [indexes of earlier tasks in this list], "scope": "optional area, e.g. src/api", "tags": ["optional capabilities"] }, …])`,
              'Rules: a task depends only on tasks it truly needs; independent tasks have no dependencies so they run in parallel; no cycles; higher priority is claimed first; titles start with a verb.',
            ]
              .filter(Boolean)
              .join('\n\n'),
          },
        },
      ],
    }),
  );
}
