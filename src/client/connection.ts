/** Connecting to Temporal as the configuration says: local, TLS (mTLS files) or Temporal Cloud (API key). */
import fs from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { RuntimeConfig } from '../config';

export function connectionOptions(config: RuntimeConfig): ConnectionOptions {
  const options: ConnectionOptions = { address: config.temporalAddress, connectTimeout: '3s' };
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
  private failedAt = 0;
  private lastError?: Error;
  /** After a failed connect, calls fail at once for this long instead of each waiting for the connect timeout. */
  static readonly RETRY_AFTER_MS = 2_000;

  constructor(private readonly config: RuntimeConfig) {}

  get(): Promise<Client> {
    if (!this.pending && this.lastError !== undefined && Date.now() - this.failedAt < LazyClient.RETRY_AFTER_MS) {
      return Promise.reject(this.lastError);
    }
    if (!this.pending) {
      this.pending = connectClient(this.config);
      this.pending.then(
        () => {
          this.lastError = undefined;
        },
        (err: unknown) => {
          this.pending = undefined;
          this.lastError = err instanceof Error ? err : new Error(JSON.stringify(err));
          this.failedAt = Date.now();
        },
      );
    }
    return this.pending;
  }

  async close(): Promise<void> {
    const pending = this.pending;
    this.pending = undefined;
    if (pending) await (await pending.catch(() => undefined))?.connection.close();
  }
}
