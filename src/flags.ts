/** Command-line flags as environment variables; no imports, so the thin stdio front can use it. */
/** `--temporal-address x` → TEMPORAL_ADDRESS=x, and so on for every variable. */
export function flagsToEnv(argv: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    const name = (eq > 0 ? arg.slice(2, eq) : arg.slice(2)).replace(/-/g, '_').toUpperCase();
    // Switches take no value: `--postgres` alone turns it on.
    if (eq < 0 && name === 'POSTGRES') {
      env.AGENT_RUNTIME_POSTGRES = 'on';
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[i + 1];
    if (value === undefined) continue;
    if (eq < 0) i++;
    const known: Record<string, string> = {
      HOME: 'AGENT_RUNTIME_HOME',
      TOOLSETS: 'AGENT_RUNTIME_TOOLSETS',
      TOKEN: 'AGENT_RUNTIME_TOKEN',
      POSTGRES: 'AGENT_RUNTIME_POSTGRES',
      WORKERS: 'AGENT_RUNTIME_WORKERS',
      PG_PORT: 'AGENT_RUNTIME_PG_PORT',
    };
    env[known[name] ?? name] = value;
  }
  return env;
}
