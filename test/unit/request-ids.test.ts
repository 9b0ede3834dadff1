import {
  argsDigest,
  callerKey,
  canonicalJson,
  digestSuffix,
  splitRequestId,
  withDigest,
} from '../../src/domain/request-ids';

test('equal arguments give one digest whatever their key order; other arguments another', () => {
  expect(canonicalJson({ b: 1, a: [{ y: 2, x: null }], u: undefined })).toBe('{"a":[{"x":null,"y":2}],"b":1}');
  expect(argsDigest({ a: 1, b: 'x' })).toBe(argsDigest({ b: 'x', a: 1 }));
  expect(argsDigest({ a: 1, b: 'x' })).not.toBe(argsDigest({ a: 1, b: 'y' }));
  expect(argsDigest({})).toMatch(/^[0-9a-f]{8}$/);
});

test('a keyed id splits back into the key and the digest, with suffixes the project adds after it', () => {
  const id = withDigest('req-1', { title: 't' });
  const digest = argsDigest({ title: 't' });
  expect(splitRequestId(id)).toEqual({ key: 'req-1', digest });
  expect(splitRequestId(`${id}:claim`)).toEqual({ key: 'req-1:claim', digest });
  expect(callerKey(`${id}:claim`)).toBe('req-1');
  expect(digestSuffix(id)).toBe(`~${digest}`);
  // ids the project makes itself, and keys that merely contain a tilde, are their own key
  expect(splitRequestId('3f2a-uuid')).toEqual({ key: '3f2a-uuid' });
  expect(splitRequestId('a~not-hex!')).toEqual({ key: 'a~not-hex!' });
  expect(digestSuffix(undefined)).toBe('');
  expect(splitRequestId(withDigest('x~y', 1))).toEqual({ key: 'x~y', digest: argsDigest(1) });
});
