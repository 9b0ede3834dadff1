/**
 * The custom search attributes every entity workflow keeps current (DESIGN §2). Registered by the embedded dev
 * server at start (`--search-attribute`) and by the one-shot step in docker-compose.yml.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

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
