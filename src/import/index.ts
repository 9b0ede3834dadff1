/**
 * `agent-runtime import [path] [--from agent-runtime-mcp|hq] [--dry-run]`: recreates a seed's goals, tasks,
 * pipelines and breakers (agent-runtime-mcp) or projects and steps (hq) as workflows, keeping ids, statuses, results,
 * dependencies and claims. Idempotent: a second run creates nothing twice.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../client/errors';
import type { GoalsClient } from '../client/goals';
import { applyPlan, type ImportReport } from './apply';
import { planAgentRuntimeMcp, planHq, SeedSystemSchema, type SeedSystem } from './plan';
import { detectSystem, openDatabase, readAgentRuntimeMcp, readHq } from './sqlite';

export interface ImportArgs {
  path?: string;
  from?: SeedSystem;
  dryRun: boolean;
}

/** Splits the import command's own arguments from the flags every command takes. */
export function parseImportArgs(argv: string[]): { args: ImportArgs; rest: string[] } {
  const args: ImportArgs = { dryRun: false };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--dry-run') args.dryRun = true;
    else if (a === '--from' || a.startsWith('--from=')) {
      const value = a.includes('=') ? a.slice(7) : argv[++i];
      const parsed = SeedSystemSchema.safeParse(value);
      if (!parsed.success) {
        throw new AppError('INVALID_ARGUMENT', `--from takes agent-runtime-mcp or hq, not "${value ?? ''}".`);
      }
      args.from = parsed.data;
    } else if (!a.startsWith('--') && args.path === undefined) args.path = a;
    else {
      rest.push(a);
      if (a.startsWith('--') && !a.includes('=') && argv[i + 1] !== undefined) rest.push(argv[++i] as string);
    }
  }
  return { args, rest };
}

/** The seeds' default database files, in the order they are tried when no path is given. */
export function defaultDatabases(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = os.homedir();
  return [
    path.join(home, '.claude', 'agent_runtime.db'),
    env.AGENT_DB_PATH ?? path.join(home, '.claude', 'agent-coordination.db'),
  ];
}

export async function importDatabase(
  goals: GoalsClient,
  args: ImportArgs,
  progress: (line: string) => void = () => undefined,
): Promise<ImportReport> {
  const file = args.path ?? defaultDatabases().find((p) => fs.existsSync(p));
  if (!file) {
    throw new AppError(
      'NOT_FOUND',
      `No database to import: give its path (agent-runtime import <file>); none of the defaults exists: ${defaultDatabases().join(', ')}.`,
    );
  }
  progress(`Reading ${file}…`);
  const db = await openDatabase(file);
  try {
    const found = detectSystem(db, file);
    if (args.from && args.from !== found) {
      throw new AppError('INVALID_ARGUMENT', `${file} was written by ${found}, not ${args.from}.`);
    }
    const now = Date.now();
    const plan = found === 'hq' ? planHq(readHq(db), now) : planAgentRuntimeMcp(readAgentRuntimeMcp(db), now);
    progress(
      `${found}: ${plan.goals.length} ${found === 'hq' ? 'project' : 'goal'}(s), ${plan.relays.length} pipeline(s), ${plan.breakers.length} breaker(s)${args.dryRun ? ' (dry run: nothing is created)' : ''}…`,
    );
    return await applyPlan(goals, plan, { dryRun: args.dryRun, progress });
  } finally {
    db.close();
  }
}

/** The report as a person reads it. */
export function formatReport(r: ImportReport): string {
  const lines = [`${r.dryRun ? 'Would import' : 'Imported'} from ${r.system}:`];
  for (const i of r.items) lines.push(`  ${i.outcome.padEnd(16)} ${i.kind} ${i.id} → ${i.workflowId} (${i.detail})`);
  const counts = (o: string) => r.items.filter((i) => i.outcome === o).length;
  lines.push(
    r.dryRun
      ? `${r.items.length} workflow(s) would be created; ${r.aliases.added} numeric id(s) would be kept.`
      : `${counts('created')} created, ${counts('already imported')} already imported, ${counts('conflict')} conflict(s); numeric ids: ${r.aliases.added} kept, ${r.aliases.unchanged} already known, ${r.aliases.conflicts.length} taken by other tasks.`,
  );
  for (const c of r.aliases.conflicts)
    lines.push(`  number ${c.alias} already names ${c.kept}; ${c.refused} keeps only its id`);
  for (const n of r.notes) lines.push(`  note: ${n}`);
  return lines.join('\n');
}
