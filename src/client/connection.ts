/** Connecting to Temporal as the configuration says: local, TLS (mTLS files) or Temporal Cloud (API key). */
import fs from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { RuntimeConfig } from '../config';

export function connectionOptions(config: RuntimeConfig): ConnectionOptions {
  const options: ConnectionOptions = { address: config.temporalAddress, connectTimeout: '5s' };
  if (config.tlsCertPath && config.tlsKeyPath) {
    options.tls = {
      clientCertPair: { crt: fs.readFileSync(config.tlsCertPath), key: fs.readFileSync(config.tlsKeyPath) },
    };
  } else if (config.apiKey) {
    options.tls = true;
  }
  if (config.apiKey) options.apiKey = config.apiKey;
  return options;
}

export async function connectClient(config: RuntimeConfig): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(config));
  return new Client({ connection, namespace: config.namespace });
}

/**
 * A client that connects on first use and reconnects after a failure, so an MCP server can start before Temporal
 * and answer TEMPORAL_UNAVAILABLE meanwhile instead of dying.
 */
export class LazyClient {
  private pending?: Promise<Client>;
  constructor(private readonly config: RuntimeConfig) {}

  get(): Promise<Client> {
    if (!this.pending) {
      this.pending = connectClient(this.config);
      this.pending.catch(() => {
        this.pending = undefined;
      });
    }
    return this.pending;
  }

  async close(): Promise<void> {
    const pending = this.pending;
    this.pending = undefined;
    if (pending) await (await pending.catch(() => undefined))?.connection.close();
  }
}
