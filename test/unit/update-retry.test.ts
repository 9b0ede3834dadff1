/**
 * An Update the server dropped with the workflow task that carried it (gRPC FAILED_PRECONDITION, "unexpected workflow
 * task failure") is sent again with the same input — the same update id — so it is applied once; anything else
 * reaches the caller as it came.
 */
import { ServiceError } from '@temporalio/client';
import { updateRetryInterceptor } from '../../src/client/connection';
import { isUpdateLostWithTask } from '../../src/client/errors';

/** The error the SDK throws for that server answer: a ServiceError around the gRPC error. */
function grpcError(code: number, details: string): ServiceError {
  const cause = Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
  return new ServiceError('Workflow Update failed', { cause });
}
const lost = () => grpcError(9, 'Unable to perform workflow execution update due to unexpected workflow task failure.');

test('the dropped-with-its-task answer is recognised, other refusals are not', () => {
  expect(isUpdateLostWithTask(lost())).toBe(true);
  expect(isUpdateLostWithTask(grpcError(9, 'Workflow is not ready.'))).toBe(false);
  expect(isUpdateLostWithTask(grpcError(8, 'unexpected workflow task failure'))).toBe(false);
  expect(isUpdateLostWithTask(new Error('unexpected workflow task failure'))).toBe(false);
});

test('a dropped Update is sent again with the same update id; another error is not retried', async () => {
  const startUpdate = updateRetryInterceptor().startUpdate as NonNullable<
    ReturnType<typeof updateRetryInterceptor>['startUpdate']
  >;
  const input = { updateId: 'u-1', updateName: 'claimTask', args: [] } as never;
  const seen: unknown[] = [];
  let failures = 2;
  const out = await startUpdate(input, (i: unknown) => {
    seen.push(i);
    if (failures-- > 0) return Promise.reject(lost());
    return Promise.resolve({ updateId: 'u-1', workflowRunId: 'r' });
  });
  expect(out).toEqual({ updateId: 'u-1', workflowRunId: 'r' });
  expect(seen).toEqual([input, input, input]);

  const other = grpcError(8, 'too many in-flight updates');
  let calls = 0;
  await expect(
    startUpdate(input, () => {
      calls += 1;
      return Promise.reject(other);
    }),
  ).rejects.toBe(other);
  expect(calls).toBe(1);
});
