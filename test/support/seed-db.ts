/**
 * Seed-shaped SQLite databases built in the test itself, from the seeds' own schemas (agent-runtime-mcp's
 * server.py, relay_protocol.py and circuit_breaker.py; hq's internal/db/schema.sql), written with sql.js.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import initSqlJs from 'sql.js';

export const AGENT_RUNTIME_MCP_SCHEMA = `
CREATE TABLE goals (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, description TEXT NOT NULL,
  status TEXT DEFAULT 'active', created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  completed_at TIMESTAMP, metadata TEXT);
CREATE TABLE tasks (id INTEGER PRIMARY KEY AUTOINCREMENT, goal_id INTEGER, title TEXT NOT NULL, description TEXT,
  status TEXT DEFAULT 'pending', priority INTEGER DEFAULT 5, dependencies TEXT, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, started_at TIMESTAMP, completed_at TIMESTAMP, result TEXT, error TEXT,
  metadata TEXT, FOREIGN KEY (goal_id) REFERENCES goals(id));
CREATE TABLE task_queue (id INTEGER PRIMARY KEY AUTOINCREMENT, task_id INTEGER NOT NULL, queue_position INTEGER,
  scheduled_for TIMESTAMP, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE relay_pipelines (pipeline_id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT, goal TEXT, agents_json TEXT,
  current_step INTEGER DEFAULT 0, status TEXT DEFAULT 'pending', total_token_budget INTEGER DEFAULT 100000,
  tokens_used INTEGER DEFAULT 0, quality_scores_json TEXT DEFAULT '[]', l_scores_json TEXT DEFAULT '[]',
  initial_entity_id INTEGER, final_entity_id INTEGER, created_at TEXT, started_at TEXT, completed_at TEXT);
CREATE TABLE relay_results (id INTEGER PRIMARY KEY AUTOINCREMENT, pipeline_id TEXT NOT NULL, step_index INTEGER NOT NULL,
  agent_id TEXT NOT NULL, status TEXT NOT NULL, output_key TEXT, output_entity_id INTEGER, quality_score REAL DEFAULT 0.0,
  l_score REAL DEFAULT 0.5, tokens_used INTEGER DEFAULT 0, execution_time_ms INTEGER DEFAULT 0, error_message TEXT, created_at TEXT);
CREATE TABLE relay_batons (baton_id TEXT PRIMARY KEY, pipeline_id TEXT NOT NULL, sequence_position INTEGER NOT NULL,
  baton_json TEXT NOT NULL, status TEXT DEFAULT 'pending', created_at TEXT, passed_at TEXT);
CREATE TABLE circuit_breakers (agent_id TEXT PRIMARY KEY, state TEXT NOT NULL DEFAULT 'closed', failure_count INTEGER DEFAULT 0,
  success_count INTEGER DEFAULT 0, total_failures INTEGER DEFAULT 0, total_successes INTEGER DEFAULT 0, trip_count INTEGER DEFAULT 0,
  last_failure_time TEXT, last_success_time TEXT, cooldown_until TEXT, config TEXT, created_at TEXT DEFAULT CURRENT_TIMESTAMP,
  updated_at TEXT DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE circuit_failures (failure_id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, failure_type TEXT NOT NULL,
  error_message TEXT, context TEXT, timestamp TEXT DEFAULT CURRENT_TIMESTAMP);
`;

export const HQ_SCHEMA = `
CREATE TABLE projects (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL, base_commit TEXT,
  created_at TEXT NOT NULL DEFAULT (datetime('now')), status TEXT NOT NULL DEFAULT 'active'
  CHECK(status IN ('active', 'completed', 'aborted')), priority INTEGER NOT NULL DEFAULT 0);
CREATE TABLE steps (id INTEGER PRIMARY KEY AUTOINCREMENT, project_id INTEGER NOT NULL, step_num INTEGER NOT NULL,
  branch TEXT NOT NULL, scope TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'not_started'
  CHECK(status IN ('not_started', 'claimed', 'in_progress', 'completed', 'failed', 'merged')), worktree TEXT, agent_id TEXT,
  claimed_at TEXT, started_at TEXT, completed_at TEXT, last_heartbeat TEXT, last_commit TEXT, files_modified TEXT, notes TEXT,
  FOREIGN KEY(project_id) REFERENCES projects(id) ON DELETE CASCADE, UNIQUE(project_id, step_num));
CREATE TABLE dependencies (step_id INTEGER NOT NULL, depends_on_step_id INTEGER NOT NULL, PRIMARY KEY(step_id, depends_on_step_id));
CREATE TABLE agent_events (id INTEGER PRIMARY KEY AUTOINCREMENT, agent_id TEXT NOT NULL, project_id INTEGER, step_id INTEGER,
  event_type TEXT NOT NULL, timestamp TEXT NOT NULL DEFAULT (datetime('now')), metadata TEXT);
CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT (datetime('now')));
`;

/** Writes a database with `schema` and the given statements to a temp file; returns its path. */
export async function writeSeedDb(schema: string, statements: string[]): Promise<string> {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  db.exec(schema);
  for (const s of statements) db.exec(s);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'seed-db-')), 'seed.db');
  fs.writeFileSync(file, Buffer.from(db.export()));
  db.close();
  return file;
}

/** A number unlikely to collide with another test's seed ids in the same Temporal namespace. */
export function seedBase(): number {
  return 100_000 + Math.floor(Math.random() * 800_000) * 10;
}
