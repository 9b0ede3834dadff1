#!/usr/bin/env node
/**
 * agent-runtime <command>: a dispatcher that loads only what the command needs. `mcp` starts as a thin stdio front
 * (node built-ins only) when a daemon runs on this machine, so an agent's MCP server starts in a few tens of ms;
 * every other command loads the full runtime (commands.ts).
 */
import type * as Commands from './commands';
import type * as Front from './mcp/front';

const [command, ...rest] = process.argv.slice(2);

if (command === 'mcp') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('./mcp/front') as typeof Front).runFront(rest);
} else {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('./commands') as typeof Commands).runCommand(process.argv.slice(2));
}
