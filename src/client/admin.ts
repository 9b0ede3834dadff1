/**
 * Registers the project's search attributes on a Temporal that lacks them (an external server given by
 * TEMPORAL_ADDRESS). The embedded dev server registers them at start; docker-compose has a one-shot step.
 */
import type { Client } from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { AR_ENTITY, SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

const TYPES: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  Text: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Int: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Double: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  Bool: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  Datetime: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KeywordList: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/** Returns the names it added; throws if the server refuses (e.g. Temporal Cloud, where the UI or tcld adds them). */
export async function ensureSearchAttributes(client: Client, namespace: string): Promise<string[]> {
  const existing = await client.connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set([
    ...Object.keys(existing.customAttributes ?? {}),
    ...Object.keys(existing.systemAttributes ?? {}),
  ]);
  const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([name]) => !known.has(name));
  if (missing.length === 0) return [];
  await client.connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, TYPES[type] as number])),
  });
  return missing.map(([name]) => name);
}

/**
 * Creates a namespace (with the project's search attributes) unless it exists, and waits until the server serves it
 * — a new namespace reaches every frontend only after its namespace cache refreshes (up to ~10 s on a cluster).
 * Returns whether it was created.
 */
export async function ensureNamespace(
  client: Client,
  namespace: string,
  opts: { retentionDays?: number; timeoutMs?: number; onWait?: () => void } = {},
): Promise<boolean> {
  const service = client.connection.workflowService;
  let created = false;
  try {
    await service.describeNamespace({ namespace });
  } catch (err) {
    if ((err as { code?: number }).code !== 5) throw err; // NOT_FOUND
    await service.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs((opts.retentionDays ?? 3) * 86_400_000),
    });
    created = true;
  }
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (let attempt = 0; ; attempt++) {
    try {
      await ensureSearchAttributes(client, namespace);
      const listed = await client.connection.operatorService.listSearchAttributes({ namespace });
      const known = Object.keys(listed.customAttributes ?? {});
      if (Object.keys(SEARCH_ATTRIBUTES).every((name) => known.includes(name))) {
        // The frontend that answers workflow calls may still have the old namespace cache, and with it no mapping for
        // the attributes just added (a workflow started with them is refused): ask it with a query that names one.
        await service.countWorkflowExecutions({ namespace, query: `${AR_ENTITY.name} = 'none'` });
        return created;
      }
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline)
      throw new Error(`namespace ${namespace} is not served after ${opts.timeoutMs ?? 60_000} ms`);
    if (attempt === 0) opts.onWait?.();
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * Connects, again and again, until Temporal answers GetSystemInfo (a server that has just started listens before it
 * serves). Gives up with the last error once `timeoutMs` has passed or `gone()` says the server exited; `onWait` is
 * called once, when it first has to wait.
 */
export async function waitForTemporal(
  connect: () => Promise<Client>,
  o: { timeoutMs: number; intervalMs?: number; onWait?: () => void; gone?: () => boolean },
): Promise<Client> {
  const deadline = Date.now() + o.timeoutMs;
  for (let attempt = 0; ; attempt++) {
    let client: Client | undefined;
    try {
      client = await connect();
      await client.connection.workflowService.getSystemInfo({});
      return client;
    } catch (err) {
      await client?.connection.close();
      if (Date.now() > deadline || o.gone?.()) throw err;
      if (attempt === 0) o.onWait?.();
      await sleep(o.intervalMs ?? 1000);
    }
  }
}
