/**
 * idAliasesWorkflow: one per deployment (`id-aliases-<task queue>`), the registry of seed task numbers kept by
 * `agent-runtime import`. Started by update-with-start on the first import; resolving a number is a Query, so
 * reading an alias never touches history.
 */
import { allHandlersFinished, condition, continueAsNew } from '@temporalio/workflow';
import { initPatches } from './patches';
import { continueAsNewSuggested, initContinueAsNew } from './continue-as-new';
import * as aliases from '../domain/aliases';
import { updateRegistrar, validatedQuery } from './entity';
import { registerAliasesUpdate, resolveAliasQuery, type AliasesWorkflowInput } from './messages';

export async function idAliasesWorkflow(input: AliasesWorkflowInput): Promise<void> {
  initPatches();
  initContinueAsNew();
  const state = input.state;
  const applied = new Map<string, unknown>(input.applied ?? []);
  const update = updateRegistrar({ applied, afterChange: () => undefined });

  // An Update, not a Signal: the importer needs to know which numbers were refused as conflicts.
  update(
    registerAliasesUpdate,
    aliases.RegisterAliasesInputSchema,
    'registerAliases input',
    () => undefined,
    (i) => aliases.registerAliases(state, i),
  );
  validatedQuery(resolveAliasQuery, aliases.ResolveAliasQuerySchema, 'resolveAlias input', ({ alias }) =>
    aliases.resolveAlias(state, alias),
  );

  await condition(() => continueAsNewSuggested());
  await condition(allHandlersFinished);
  await continueAsNew<typeof idAliasesWorkflow>({ state, applied: [...applied] });
}
