import { sharedSchemas, type ZodApi } from '../../src/domain/shared';
import { ClaimInputSchema, TaskIdSchema } from '../../src/domain/schemas';

describe('schemas built once per workflow thread', () => {
  test('a key is built once; every later call gets the same object without building again', () => {
    let builds = 0;
    const build = (z: ZodApi) => {
      builds += 1;
      return { Name: z.string().min(1) };
    };
    const first = sharedSchemas('test/once', build);
    const second = sharedSchemas('test/once', build);
    expect(second).toBe(first);
    expect(builds).toBe(1);
    expect(first.Name.safeParse('').success).toBe(false);
    expect(sharedSchemas('test/other', build)).not.toBe(first);
    expect(builds).toBe(2);
  });

  test('the shared schemas validate as before: good input passes, bad input names its field', () => {
    expect(ClaimInputSchema.safeParse({ agentId: 'a', taskId: 'g/1' }).success).toBe(true);
    const bad = ClaimInputSchema.safeParse({ agentId: 'a', taskId: 'g 1' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['taskId']);
    expect(TaskIdSchema.safeParse('auth-k3f9/2').success).toBe(true);
  });
});
