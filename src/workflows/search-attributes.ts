/**
 * The custom search attributes every entity workflow keeps current (DESIGN §2). Registered by the embedded dev
 * server at start (`--search-attribute`) and by the one-shot step in docker-compose.yml.
 */
import {
  defineSearchAttributeKey,
  SearchAttributeType,
  type SearchAttributePair,
  type TypedSearchAttributes,
} from '@temporalio/common';
import type { GoalIndex } from '../domain/goal';

export const AR_ENTITY = defineSearchAttributeKey('ArEntity', SearchAttributeType.KEYWORD);
export const AR_STATUS = defineSearchAttributeKey('ArStatus', SearchAttributeType.KEYWORD);
export const AR_NAME = defineSearchAttributeKey('ArName', SearchAttributeType.KEYWORD);
export const AR_READY_COUNT = defineSearchAttributeKey('ArReadyCount', SearchAttributeType.INT);
export const AR_TOP_PRIORITY = defineSearchAttributeKey('ArTopPriority', SearchAttributeType.INT);
/** The goal's own priority: orders claims across goals (projects) before task priority. */
export const AR_PRIORITY = defineSearchAttributeKey('ArPriority', SearchAttributeType.INT);
export const AR_PROGRESS = defineSearchAttributeKey('ArProgress', SearchAttributeType.DOUBLE);
export const AR_AGENTS = defineSearchAttributeKey('ArAgents', SearchAttributeType.KEYWORD_LIST);
export const AR_SCOPES = defineSearchAttributeKey('ArScopes', SearchAttributeType.KEYWORD_LIST);

/** name → the type word the `temporal` CLI and operator API use. */
export const SEARCH_ATTRIBUTES: Record<
  string,
  'Keyword' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'Text' | 'KeywordList'
> = {
  ArEntity: 'Keyword',
  ArStatus: 'Keyword',
  ArName: 'Keyword',
  ArReadyCount: 'Int',
  ArTopPriority: 'Int',
  ArPriority: 'Int',
  ArProgress: 'Double',
  ArAgents: 'KeywordList',
  ArScopes: 'KeywordList',
};

/** A goal's search attributes: what its start sets and its workflow keeps current. */
export function goalSearchAttributes(name: string, idx: GoalIndex): SearchAttributePair[] {
  return [
    { key: AR_ENTITY, value: 'goal' },
    { key: AR_NAME, value: name.slice(0, 200) },
    { key: AR_STATUS, value: idx.status },
    { key: AR_READY_COUNT, value: idx.readyCount },
    { key: AR_TOP_PRIORITY, value: idx.topReadyPriority },
    { key: AR_PRIORITY, value: idx.priority },
    { key: AR_PROGRESS, value: idx.progress },
    { key: AR_AGENTS, value: idx.agents },
    { key: AR_SCOPES, value: idx.readyScopes },
  ];
}

/** A relay's search attributes (progress as a fraction). */
export function relaySearchAttributes(name: string, status: string, progressPercent: number): SearchAttributePair[] {
  return [
    { key: AR_ENTITY, value: 'relay' },
    { key: AR_NAME, value: name.slice(0, 200) },
    { key: AR_STATUS, value: status },
    { key: AR_PROGRESS, value: progressPercent / 100 },
  ];
}

/** A circuit breaker's search attributes. */
export function breakerSearchAttributes(agentId: string, state: string): SearchAttributePair[] {
  return [
    { key: AR_ENTITY, value: 'breaker' },
    { key: AR_NAME, value: agentId.slice(0, 200) },
    { key: AR_STATUS, value: state },
  ];
}

/** A registered agent's search attributes. */
export function agentSearchAttributes(agentId: string, status: string): SearchAttributePair[] {
  return [
    { key: AR_ENTITY, value: 'agent' },
    { key: AR_NAME, value: agentId },
    { key: AR_STATUS, value: status },
  ];
}

/** A task-graph workspace's search attributes. */
export function workspaceSearchAttributes(name: string): SearchAttributePair[] {
  return [
    { key: AR_ENTITY, value: 'workspace' },
    { key: AR_NAME, value: name.slice(0, 200) },
  ];
}

/** Whether a run's search attributes hold these values already (as its start or the run before it left them). */
export function holdsSearchAttributes(
  current: TypedSearchAttributes | undefined,
  pairs: SearchAttributePair[],
): boolean {
  return (
    current !== undefined && pairs.every(({ key, value }) => JSON.stringify(current.get(key)) === JSON.stringify(value))
  );
}
