/**
 * The logger keeps a closed stderr from ending the process with one listener, however often its module is loaded: a
 * test runner loads it once per test file, and Node warned of a listener leak (MaxListenersExceededWarning) at the
 * eleventh.
 */
test('loading the logger twenty times adds one stderr error listener, and a stderr error is swallowed', () => {
  const before = process.stderr.listenerCount('error');
  for (let i = 0; i < 20; i++) {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('../../src/logger');
    });
  }
  const added = process.stderr.listenerCount('error') - before;
  expect(added).toBeLessThanOrEqual(1);
  expect(process.stderr.listenerCount('error')).toBeGreaterThanOrEqual(1);
  // With a listener, an error on stderr is not thrown (an unhandled 'error' event would be).
  expect(() => process.stderr.emit('error', new Error('EPIPE'))).not.toThrow();
});
