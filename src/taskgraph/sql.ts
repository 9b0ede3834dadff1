/**
 * `query` and `get_schema`: read-only SQL over a snapshot of a workspace, in task-graph-mcp's table shapes, built per
 * call in an in-memory SQLite (sql.js) inside a worker thread that is stopped when the query runs too long.
 */
import { Worker } from 'node:worker_threads';
import { AppError } from '../client/errors';
import type { ShardRecord, Snapshot } from '../workflows/workspace-messages';

export const SQL_TIMEOUT_MS = 5_000;
export const SQL_ROWS_MAX = 1_000;

export const SCHEMA_SQL = `
CREATE TABLE tasks (id TEXT PRIMARY KEY, parent_id TEXT, title TEXT NOT NULL, description TEXT, status TEXT NOT NULL,
  phase TEXT, priority INTEGER NOT NULL DEFAULT 5, points INTEGER, worker_id TEXT, assignee TEXT, claimed_at INTEGER,
  started_at INTEGER, completed_at INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  time_estimate_ms INTEGER, time_actual_ms INTEGER, cost_usd REAL NOT NULL DEFAULT 0, metrics TEXT,
  tags TEXT, needed_tags TEXT, wanted_tags TEXT, deleted_at INTEGER);
CREATE TABLE task_tags (task_id TEXT NOT NULL, tag TEXT NOT NULL);
CREATE TABLE task_sequence (id INTEGER PRIMARY KEY, task_id TEXT NOT NULL, worker_id TEXT, status TEXT,
  phase TEXT, reason TEXT, timestamp INTEGER NOT NULL, end_timestamp INTEGER);
CREATE TABLE dependencies (from_task_id TEXT NOT NULL, to_task_id TEXT NOT NULL, dep_type TEXT NOT NULL);
CREATE TABLE attachments (task_id TEXT NOT NULL, attachment_type TEXT NOT NULL, sequence INTEGER NOT NULL, name TEXT,
  mime_type TEXT, content TEXT, created_at INTEGER NOT NULL);
CREATE TABLE file_locks (file_path TEXT NOT NULL, worker_id TEXT NOT NULL, task_id TEXT, reason TEXT,
  locked_at INTEGER NOT NULL, exclusive INTEGER NOT NULL, expires_at INTEGER);
CREATE TABLE workers (id TEXT PRIMARY KEY, tags TEXT, workflow TEXT, registered_at INTEGER, last_heartbeat INTEGER,
  current_thought TEXT, status TEXT);
`;

type Cell = string | number | null;
export interface Tables {
  [table: string]: Cell[][];
}

/** The snapshot as rows per table, column order as in SCHEMA_SQL. */
export function toTables(snap: Snapshot, recs: Record<string, ShardRecord>): Tables {
  const live = snap.tasks.filter((t) => t.deleted_at === null);
  const json = (v: unknown): string => JSON.stringify(v);
  const tables: Tables = {
    tasks: [],
    task_tags: [],
    task_sequence: [],
    dependencies: [],
    attachments: [],
    file_locks: [],
    workers: [],
  };
  let seq = 0;
  for (const t of snap.tasks) {
    const rec = recs[t.k];
    tables.tasks!.push([
      t.id,
      t.parent,
      t.title,
      rec?.description ?? null,
      t.status,
      t.phase,
      t.priority,
      t.points,
      t.worker_id ?? t.done_by,
      t.assignee,
      t.claimed_at,
      t.started_at,
      t.completed_at,
      t.created_at,
      t.updated_at,
      t.time_estimate_ms,
      t.time_actual_ms,
      t.cost_usd,
      json(t.metrics),
      json(t.tags),
      json(t.needed_tags),
      json(t.wanted_tags),
      t.deleted_at,
    ]);
    for (const tag of t.tags) tables.task_tags!.push([t.id, tag]);
    for (const e of rec?.events ?? []) {
      tables.task_sequence!.push([++seq, t.id, e.worker_id, e.status, e.phase, e.reason, e.timestamp, e.end_timestamp]);
    }
    (rec?.attachments ?? []).forEach((a, n) =>
      tables.attachments!.push([t.id, a.type, n + 1, a.name, a.mime, a.content, a.at]),
    );
  }
  void live;
  for (const d of snap.deps) tables.dependencies!.push([d.from, d.to, d.type]);
  for (const t of snap.tasks) if (t.parent) tables.dependencies!.push([t.parent, t.id, 'contains']);
  for (const m of snap.marks)
    tables.file_locks!.push([m.file, m.agent, m.task, m.reason, m.at, m.exclusive ? 1 : 0, m.expires_at]);
  for (const w of snap.workers) {
    tables.workers!.push([w.id, json(w.tags), w.workflow, w.connected_at, w.last_seen, w.thought, w.status]);
  }
  return tables;
}

const WRITE =
  /^\s*(insert|update|delete|replace|create|drop|alter|attach|detach|vacuum|reindex|pragma|begin|commit|rollback|savepoint|release|analyze)\b/i;

// Runs inside the worker thread: builds the database, runs one read-only statement, returns columns and rows.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const initSqlJs = require(workerData.sqlJs);
initSqlJs().then((SQL) => {
  const db = new SQL.Database();
  db.exec(workerData.schema);
  for (const [table, rows] of Object.entries(workerData.tables)) {
    if (rows.length === 0) continue;
    const marks = rows[0].map(() => '?').join(',');
    const stmt = db.prepare('INSERT INTO ' + table + ' VALUES (' + marks + ')');
    db.exec('BEGIN');
    for (const r of rows) stmt.run(r);
    db.exec('COMMIT');
    stmt.free();
  }
  db.exec('PRAGMA query_only = 1');
  const stmt = db.prepare(workerData.sql);
  if (workerData.params) stmt.bind(workerData.params);
  const columns = stmt.getColumnNames();
  const rows = [];
  let truncated = false;
  while (stmt.step()) {
    if (rows.length >= workerData.limit) { truncated = true; break; }
    rows.push(stmt.get());
  }
  stmt.free();
  parentPort.postMessage({ ok: true, columns, rows, truncated });
}).catch((err) => parentPort.postMessage({ ok: false, message: String(err && err.message || err) }));
`;

export interface SqlResult {
  columns: string[];
  rows: Cell[][];
  truncated: boolean;
}

export function runSql(
  tables: Tables,
  sql: string,
  params: Cell[] | undefined,
  limit: number,
  timeoutMs = SQL_TIMEOUT_MS,
): Promise<SqlResult> {
  if (WRITE.test(sql)) {
    return Promise.reject(
      new AppError(
        'INVALID_ARGUMENT',
        'query is read-only: it runs SELECT (or WITH … SELECT) over a snapshot of the workspace. Change tasks with create, update, link and the other tools.',
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { sqlJs: require.resolve('sql.js'), schema: SCHEMA_SQL, tables, sql, params, limit },
      resourceLimits: { maxOldGenerationSizeMb: 512 },
    });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(
        new AppError(
          'INVALID_ARGUMENT',
          `The query ran longer than ${timeoutMs / 1000} s and was stopped; narrow it (WHERE, LIMIT) and try again.`,
        ),
      );
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      void worker.terminate();
    };
    worker.once('message', (m: { ok: boolean; message?: string } & SqlResult) => {
      done();
      if (m.ok) resolve({ columns: m.columns, rows: m.rows, truncated: m.truncated });
      else {
        const readOnly = /readonly|read-only|query_only/i.test(m.message ?? '');
        reject(
          new AppError(
            'INVALID_ARGUMENT',
            readOnly
              ? 'query is read-only: writes are refused. Change tasks with create, update, link and the other tools.'
              : `SQL error: ${m.message}. get_schema lists the tables and columns.`,
          ),
        );
      }
    });
    worker.once('error', (err) => {
      done();
      reject(new AppError('INVALID_ARGUMENT', `SQL error: ${err.message}.`));
    });
  });
}

/** Tables and columns, as get_schema shows them. */
export async function schema(table?: string) {
  const r = await runSql(
    {},
    `SELECT m.name, p.name, p.type, p."notnull", p.dflt_value, p.pk FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' ORDER BY m.name, p.cid`,
    undefined,
    SQL_ROWS_MAX,
  );
  const tables = new Map<
    string,
    Array<{ name: string; data_type: string; nullable: boolean; default_value: Cell; primary_key: boolean }>
  >();
  for (const [t, name, type, notnull, dflt, pk] of r.rows) {
    const list = tables.get(String(t)) ?? [];
    list.push({
      name: String(name),
      data_type: String(type),
      nullable: notnull === 0,
      default_value: dflt ?? null,
      primary_key: Number(pk) > 0,
    });
    tables.set(String(t), list);
  }
  const out = [...tables.entries()]
    .filter(([n]) => !table || n === table)
    .map(([name, columns]) => ({ name, table_type: 'table', columns }));
  if (table && out.length === 0) {
    throw new AppError('NOT_FOUND', `No table "${table}". Tables: ${[...tables.keys()].join(', ')}.`);
  }
  return { tables: out, sqlite_version: 'sql.js' };
}
