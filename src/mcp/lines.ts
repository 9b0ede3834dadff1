/**
 * Newline-delimited messages (MCP's stdio framing, and the daemon's local socket): text arrives in chunks that cut
 * lines anywhere; each whole line is handed on without its '\n' (or '\r\n'). A front forwards thousands of these on a
 * busy goal, in a process that never runs long enough to be optimized, so this is the whole of it: no readline layer.
 */
export interface LineSplitter {
  /** Adds a chunk; calls onLine for every line it completes, in order. */
  push(chunk: string): void;
  /** The input ended: a last line with no newline after it is still a line. */
  end(): void;
  /** Characters held of a line not yet complete. */
  readonly held: number;
}

export function lineSplitter(onLine: (line: string) => void): LineSplitter {
  let buffer = '';
  const emit = (line: string): void => onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  return {
    push(chunk) {
      let text = buffer === '' ? chunk : buffer + chunk;
      let nl = text.indexOf('\n');
      while (nl >= 0) {
        emit(text.slice(0, nl));
        text = text.slice(nl + 1);
        nl = text.indexOf('\n');
      }
      buffer = text;
    },
    end() {
      const last = buffer;
      buffer = '';
      if (last !== '') emit(last);
    },
    get held() {
      return buffer.length;
    },
  };
}
