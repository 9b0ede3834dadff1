/** Configuration by environment, with a --flag for each (DESIGN §1). */
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_TEMPORAL_ADDRESS, TASK_QUEUE } from './defaults';
import { ALL_TOOLSETS, MAX_WORKERS } from './flags';

export { ALL_TOOLSETS };
export type Toolset = (typeof ALL_TOOLSETS)[number];
export const DEFAULT_TOOLSETS: Toolset[] = ['goals', 'relay', 'breakers'];

export interface RuntimeConfig {
  home: string;
  /** host:port of the Temporal frontend. */
  temporalAddress: string;
  /** True when TEMPORAL_ADDRESS was not set: `up` starts the embedded dev server. */
  embedded: boolean;
  namespace: string;
  apiKey?: string;
  tlsCertPath?: string;
  tlsKeyPath?: string;
  taskQueue: string;
  toolsets: string[];
  agentId?: string;
  host: string;
  port: number;
  uiPort: number;
  /** `up --postgres`: a Temporal server on PostgreSQL instead of the dev server (postgres-stack.ts). */
  postgres: boolean;
  /** DATABASE_URL for `up --postgres`; else its own cluster under home, on AGENT_RUNTIME_PG_PORT (default 5433). */
  databaseUrl?: string;
  pgPort: number;
  /** How many worker processes `up --postgres` runs (AGENT_RUNTIME_WORKERS, default 1 in its own process). */
  workers: number;
  token?: string;
}

export { DEFAULT_TEMPORAL_ADDRESS };

export function loadConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const toolsetsRaw = (env.AGENT_RUNTIME_TOOLSETS ?? '').trim();
  const toolsets =
    toolsetsRaw === ''
      ? [...DEFAULT_TOOLSETS]
      : toolsetsRaw === 'all'
        ? [...ALL_TOOLSETS]
        : toolsetsRaw
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
  const port = Number(env.PORT ?? 3100);
  const embeddedPort = Number(env.AGENT_RUNTIME_TEMPORAL_PORT ?? 7233);
  return {
    home: env.AGENT_RUNTIME_HOME ?? path.join(os.homedir(), '.agent-runtime'),
    temporalAddress:
      env.TEMPORAL_ADDRESS ??
      (env.AGENT_RUNTIME_TEMPORAL_PORT ? `127.0.0.1:${embeddedPort}` : DEFAULT_TEMPORAL_ADDRESS),
    embedded: !env.TEMPORAL_ADDRESS,
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    apiKey: env.TEMPORAL_API_KEY || undefined,
    tlsCertPath: env.TEMPORAL_TLS_CERT || undefined,
    tlsKeyPath: env.TEMPORAL_TLS_KEY || undefined,
    taskQueue: env.AGENT_RUNTIME_TASK_QUEUE ?? TASK_QUEUE,
    toolsets,
    agentId: env.AGENT_ID || undefined,
    host: env.HOST ?? '127.0.0.1',
    port: Number.isFinite(port) ? port : 3100,
    uiPort: Number(env.TEMPORAL_UI_PORT ?? 8233),
    postgres: ['on', 'true', '1'].includes((env.AGENT_RUNTIME_POSTGRES ?? '').toLowerCase()),
    databaseUrl: env.DATABASE_URL || undefined,
    pgPort: Number(env.AGENT_RUNTIME_PG_PORT ?? 5433),
    workers: Math.max(1, Math.min(MAX_WORKERS, Math.floor(Number(env.AGENT_RUNTIME_WORKERS ?? 1)) || 1)),
    token: env.AGENT_RUNTIME_TOKEN || undefined,
  };
}
