/**
 * Reads a seed's SQLite database with sql.js (SQLite compiled to WebAssembly, shipped inside the npm package: no
 * native build, no download) and tells which system wrote it.
 */
import fs from 'node:fs';
import initSqlJs, { type Database } from 'sql.js';
import { AppError } from '../client/errors';
import type { AgentRuntimeMcpRows, HqRows, Row, SeedSystem } from './plan';

export async function openDatabase(path: string): Promise<Database> {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AppError(
      'NOT_FOUND',
      code === 'ENOENT'
        ? `There is no file at ${path}. Give the path of the seed's database, or no path to look in its default places (~/.claude/agent_runtime.db, then AGENT_DB_PATH or ~/.claude/agent-coordination.db).`
        : `Cannot read ${path}: ${code ?? String(err)}.`,
    );
  }
  const SQL = await initSqlJs();
  const db = new SQL.Database(bytes);
  try {
    db.exec('SELECT name FROM sqlite_master LIMIT 1');
  } catch {
    db.close();
    throw new AppError(
      'INVALID_ARGUMENT',
      `${path} is not a SQLite database. Give the database of agent-runtime-mcp (~/.claude/agent_runtime.db) or of hq (AGENT_DB_PATH, ~/.claude/agent-coordination.db).`,
    );
  }
  return db;
}

function tables(db: Database): Set<string> {
  const out = db.exec("SELECT name FROM sqlite_master WHERE type = 'table'");
  return new Set((out[0]?.values ?? []).map((v) => String(v[0])));
}

/** Which seed wrote the database, from its tables; a clear error for anything else. */
export function detectSystem(db: Database, path: string): SeedSystem {
  const t = tables(db);
  if (t.has('projects') && t.has('steps')) return 'hq';
  if (t.has('goals') && t.has('tasks')) return 'agent-runtime-mcp';
  throw new AppError(
    'INVALID_ARGUMENT',
    `${path} is a SQLite database, but neither agent-runtime-mcp's (tables goals, tasks) nor hq's (tables projects, steps); its tables: ${[...t].sort().join(', ') || 'none'}.`,
  );
}

function rows(db: Database, table: string, present: Set<string>): Row[] {
  if (!present.has(table)) return [];
  const stmt = db.prepare(`SELECT * FROM "${table}"`);
  const out: Row[] = [];
  try {
    while (stmt.step()) out.push(stmt.getAsObject());
  } finally {
    stmt.free();
  }
  return out;
}

export function readAgentRuntimeMcp(db: Database): AgentRuntimeMcpRows {
  const t = tables(db);
  return {
    goals: rows(db, 'goals', t),
    tasks: rows(db, 'tasks', t),
    pipelines: rows(db, 'relay_pipelines', t),
    results: rows(db, 'relay_results', t),
    batons: rows(db, 'relay_batons', t),
    breakers: rows(db, 'circuit_breakers', t),
    failures: rows(db, 'circuit_failures', t),
  };
}

export function readHq(db: Database): HqRows {
  const t = tables(db);
  return { projects: rows(db, 'projects', t), steps: rows(db, 'steps', t), dependencies: rows(db, 'dependencies', t) };
}
