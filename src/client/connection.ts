/** Connecting to Temporal as the configuration says: local, TLS (mTLS files) or Temporal Cloud (API key). */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Client,
  Connection,
  defaultGrpcRetryOptions,
  makeGrpcRetryInterceptor,
  type ConnectionOptions,
  type WorkflowClientInterceptor,
} from '@temporalio/client';
import type { RuntimeConfig } from '../config';
import { ClientClosedError, isUpdateLostWithTask, isWorkflowClosing } from './errors';
import { queryGateInterceptor } from './query-gate';

export function connectionOptions(config: RuntimeConfig): ConnectionOptions {
  const options: ConnectionOptions = { address: config.temporalAddress, connectTimeout: '3s' };
  if (config.tlsCertPath && config.tlsKeyPath) {
    options.tls = {
      clientCertPair: {
        crt: readTlsFile(config.tlsCertPath, 'TEMPORAL_TLS_CERT', 'client certificate'),
        key: readTlsFile(config.tlsKeyPath, 'TEMPORAL_TLS_KEY', "certificate's private key"),
      },
    };
  } else if (config.apiKey) {
    options.tls = true;
  }
  if (config.apiKey) options.apiKey = config.apiKey;
  return options;
}

function readTlsFile(file: string, variable: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new Error(`${variable} names ${file}, which cannot be read (${code}): give the path of the ${what} (PEM).`);
  }
}

/** A failed call's gRPC status, as the SDK's retry options get it. */
type StatusObject = Parameters<ReturnType<typeof defaultGrpcRetryOptions>['delayFunction']>[1];

/**
 * How long before a failed call is sent again: the SDK's backoff, except for a workflow closing (isWorkflowClosing),
 * which the SDK backs off like any busy answer — 1.7 s at first — though its next run takes the call a moment later:
 * 20 ms, doubling, at most 1 s.
 */
export function retryDelay(attempt: number, status: StatusObject, base = defaultGrpcRetryOptions()): number {
  if (isWorkflowClosing(status)) return Math.min(1_000, 20 * 2 ** (attempt - 1)) * (0.8 + Math.random() * 0.4);
  return base.delayFunction(attempt, status);
}

/**
 * The SDK's retries of failed calls (an outage, a busy workflow), with two changes: a call that met a run continuing as
 * new is sent again at once (retryDelay); a connection being closed starts no new retry, and close() waits for the
 * ones already on a timer — a retry that fires after the channel is closed throws from its timer and would take the
 * process down.
 */
export class RetryGuard {
  private closing = false;
  private until = 0;

  interceptor() {
    const base = defaultGrpcRetryOptions();
    return makeGrpcRetryInterceptor({
      retryableDecider: (attempt, status) => !this.closing && base.retryableDecider(attempt, status),
      delayFunction: (attempt, status) => {
        const delay = retryDelay(attempt, status, base);
        this.until = Math.max(this.until, Date.now() + delay + 50);
        return delay;
      },
    });
  }

  /** No more retries; resolves once those already scheduled have fired (at most the SDK's 5 s backoff cap). */
  async settle(): Promise<void> {
    this.closing = true;
    const wait = this.until - Date.now();
    if (wait > 0) await sleep(Math.min(wait, 6_000));
  }
}

/**
 * Sends an Update again, with the same update id, when the server dropped it with the workflow task that carried it
 * (isUpdateLostWithTask): every Update call of the runtime goes through here, so no caller sees that error.
 */
export function updateRetryInterceptor(attempts = 5): WorkflowClientInterceptor {
  return {
    async startUpdate(input, next) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await next(input);
        } catch (err) {
          if (attempt >= attempts || !isUpdateLostWithTask(err)) throw err;
          await sleep(25 * 2 ** attempt);
        }
      }
    },
  };
}

/**
 * One gate per Temporal server and namespace in a process: every client of the process sends its queries to one
 * workflow there one at a time (query-gate.ts); clients of another server or namespace never share an answer with them.
 */
const queryGates = new Map<string, WorkflowClientInterceptor>();
function queryGateFor(config: RuntimeConfig): WorkflowClientInterceptor {
  const key = `${config.temporalAddress}\n${config.namespace}`;
  let gate = queryGates.get(key);
  if (!gate) queryGates.set(key, (gate = queryGateInterceptor()));
  return gate;
}

export async function connectClient(config: RuntimeConfig, guard = new RetryGuard()): Promise<Client> {
  const connection = await Connection.connect({ ...connectionOptions(config), interceptors: [guard.interceptor()] });
  return new Client({
    connection,
    namespace: config.namespace,
    interceptors: { workflow: [queryGateFor(config), updateRetryInterceptor()] },
  });
}

/**
 * A client that connects on first use and reconnects after a failure, so an MCP server can start before Temporal
 * and answer TEMPORAL_UNAVAILABLE meanwhile instead of dying. Once closed it stays closed: work still going when its
 * process stops (an offer of queued work, a reservation sent back) fails at once instead of opening a new connection
 * that nothing closes, which kept a stopped process alive for as long as that call waited.
 */
export class LazyClient {
  private pending?: Promise<Client>;
  private failedAt = 0;
  private lastError?: Error;
  private guard = new RetryGuard();
  private closed = false;
  /** After a failed connect, calls fail at once for this long instead of each waiting for the connect timeout. */
  static readonly RETRY_AFTER_MS = 2_000;

  constructor(private readonly config: RuntimeConfig) {}

  get(): Promise<Client> {
    if (this.closed) return Promise.reject(new ClientClosedError());
    if (!this.pending && this.lastError !== undefined && Date.now() - this.failedAt < LazyClient.RETRY_AFTER_MS) {
      return Promise.reject(this.lastError);
    }
    if (!this.pending) {
      this.pending = connectClient(this.config, this.guard);
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
    this.closed = true;
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return;
    const client = await pending.catch(() => undefined);
    await this.guard.settle();
    await client?.connection.close();
  }
}
