/**
 * An Update the server dropped with the workflow task that carried it (gRPC FAILED_PRECONDITION, "unexpected workflow
 * task failure") is sent again with the same input — the same update id — so it is applied once; anything else
 * reaches the caller as it came.
 */
import { ServiceError } from '@temporalio/client';
import { retryDelay, updateRetryInterceptor } from '../../src/client/connection';
import { isUpdateLostWithTask, isWorkflowClosing } from '../../src/client/errors';

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

test('a call that met a run continuing as new is sent again within milliseconds; other busy answers back off as the SDK does', () => {
  const status = (code: number, details: string) => ({ code, details, metadata: undefined as never });
  const closing = status(8, 'workflow operation can not be applied because workflow is closing');
  const busy = status(8, 'limit on number of concurrent in-flight updates has been reached');
  const down = status(14, 'connection refused');
  expect(isWorkflowClosing(closing)).toBe(true);
  expect(isWorkflowClosing(busy)).toBe(false);
  expect(isWorkflowClosing(status(9, 'workflow is closing'))).toBe(false);
  for (let n = 0; n < 20; n++) {
    expect(retryDelay(1, closing)).toBeLessThanOrEqual(24);
    expect(retryDelay(4, closing)).toBeLessThanOrEqual(192);
    expect(retryDelay(12, closing)).toBeLessThanOrEqual(1_200);
    // The SDK's own schedule: 1 s × 1.7 for a busy workflow, 100 ms × 1.7 for an outage (±20 %).
    expect(retryDelay(1, busy)).toBeGreaterThanOrEqual(1_360);
    expect(retryDelay(1, down)).toBeGreaterThanOrEqual(136);
  }
});
