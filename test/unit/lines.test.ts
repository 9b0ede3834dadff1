/** Newline framing of stdio MCP and the daemon's local socket (src/mcp/lines.ts). */
import { lineSplitter } from '../../src/mcp/lines';

function split(chunks: string[], end = true): string[] {
  const out: string[] = [];
  const lines = lineSplitter((line) => out.push(line));
  for (const c of chunks) lines.push(c);
  if (end) lines.end();
  return out;
}

test('lines come whole and in order, however the chunks cut them', () => {
  expect(split(['{"a":1}\n{"b"', ':2}\n', '{"c":3}\n{"d":4}\n'])).toEqual(['{"a":1}', '{"b":2}', '{"c":3}', '{"d":4}']);
  expect(split(['{', '"', 'e', '"', ':5}', '\n'])).toEqual(['{"e":5}']);
});

test('CRLF counts as one newline; blank lines are lines (the reader skips them)', () => {
  expect(split(['one\r\ntwo\r', '\n\nthree\n'])).toEqual(['one', 'two', '', 'three']);
});

test('a last line with no newline is a line when the input ends, and only then', () => {
  const out: string[] = [];
  const lines = lineSplitter((line) => out.push(line));
  lines.push('done\npartial');
  expect(out).toEqual(['done']);
  expect(lines.held).toBe('partial'.length);
  lines.end();
  expect(out).toEqual(['done', 'partial']);
  expect(lines.held).toBe(0);
  lines.end();
  expect(out).toEqual(['done', 'partial']); // nothing twice
});
