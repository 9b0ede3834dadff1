/** Configuration by environment, with a --flag for each (DESIGN §1). */
import os from 'node:os';
import path from 'node:path';
import { TASK_QUEUE } from './workflows/messages';

export const ALL_TOOLSETS = ['goals', 'relay', 'breakers', 'projects'] as const;
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
  token?: string;
}

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';

/** `--temporal-address x` → TEMPORAL_ADDRESS=x, and so on for every variable. */
export function flagsToEnv(argv: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    const name = (eq > 0 ? arg.slice(2, eq) : arg.slice(2)).replace(/-/g, '_').toUpperCase();
    const value = eq > 0 ? arg.slice(eq + 1) : argv[i + 1];
    if (value === undefined) continue;
    if (eq < 0) i++;
    const known: Record<string, string> = {
      HOME: 'AGENT_RUNTIME_HOME',
      TOOLSETS: 'AGENT_RUNTIME_TOOLSETS',
      TOKEN: 'AGENT_RUNTIME_TOKEN',
    };
    env[known[name] ?? name] = value;
  }
  return env;
}

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
    token: env.AGENT_RUNTIME_TOKEN || undefined,
  };
}
