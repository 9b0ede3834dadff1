/**
 * docker-compose.yml and `agent-runtime up --postgres` are made of the same files in deploy/; this checks that the
 * compose file (which `docker compose config` cannot check here) parses, mounts those files where its images read
 * them, sets every variable they need and agrees with what up --postgres renders — and runs `agent-runtime setup`,
 * compose's namespace step, against the test server.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { Connection } from '@temporalio/client';
import {
  DEPLOY_FILES,
  TEMPORAL_SERVER_VERSION,
  TEMPORAL_UI_VERSION,
  serverEnvironment,
  uiEnvironment,
} from '../src/postgres-stack';
import { DEV_SERVER_DYNAMIC_CONFIG } from '../src/dev-server';
import { SEARCH_ATTRIBUTES } from '../src/workflows/search-attributes';
import { interpolate, renderTemplate, templateVariables } from './support/deploy-render';
import { ROOT, uid } from './support/harness';

interface Service {
  image?: string;
  build?: string;
  command?: string[] | string;
  entrypoint?: string[] | string;
  working_dir?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
}

const composeText = fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;
const shellEnv = { AGENT_RUNTIME_TOKEN: 'secret' };

function service(name: string): Service {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
}

/** A service's environment after compose's interpolation. */
function envOf(name: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service(name).environment ?? {}).map(([k, v]) => [k, interpolate(String(v), shellEnv)]),
  );
}

/** Where a service mounts a file of this repository: deploy/… → path in the container. */
function mounts(name: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of service(name).volumes ?? []) {
    const [source = '', target = ''] = v.split(':');
    if (source.startsWith('./')) out.set(path.join(ROOT, source), target);
  }
  return out;
}

const deployFile = (f: string) => path.relative(ROOT, f);
const read = (f: string) => fs.readFileSync(f, 'utf8');

describe('docker-compose.yml against deploy/ and up --postgres', () => {
  it('parses, every service starts after what it needs, and every mounted file exists', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['mcp', 'postgresql', 'schema', 'setup', 'temporal', 'temporal-ui', 'worker'].sort(),
    );
    for (const [name, s] of Object.entries(services)) {
      for (const dep of Object.keys(s.depends_on ?? {}))
        expect([name, dep, dep in services]).toEqual([name, dep, true]);
      for (const source of mounts(name).keys()) expect(fs.existsSync(source)).toBe(true);
    }
    // The chain a fresh start follows: database → schema → server → namespace → workers, MCP, UI.
    expect(service('schema').depends_on).toEqual({ postgresql: { condition: 'service_healthy' } });
    expect(service('temporal').depends_on).toEqual({ schema: { condition: 'service_completed_successfully' } });
    for (const name of ['worker', 'mcp', 'temporal-ui'])
      expect(service(name).depends_on).toEqual({ setup: { condition: 'service_completed_successfully' } });
    // Named volumes are declared.
    expect(Object.keys(compose.volumes)).toEqual(['postgres-data']);
  });

  it('mounts exactly the deploy/ files up --postgres uses', () => {
    const used = new Set(Object.values(DEPLOY_FILES).map(deployFile));
    const mounted = new Set<string>();
    for (const name of Object.keys(services)) for (const f of mounts(name).keys()) mounted.add(deployFile(f));
    expect([...mounted].sort()).toEqual([...used].sort());
  });

  it('runs the server, UI and tools of the versions up --postgres builds', () => {
    const version = TEMPORAL_SERVER_VERSION.replace(/^v/, '');
    expect(service('temporal').image).toBe(`temporalio/server:${version}`);
    expect(service('schema').image).toBe(`temporalio/admin-tools:${version}`);
    expect(service('temporal-ui').image).toBe(`temporalio/ui:${TEMPORAL_UI_VERSION.replace(/^v/, '')}`);
  });

  it('one database password everywhere, and the server and schema step reach the postgresql service', () => {
    const password = envOf('postgresql').POSTGRES_PASSWORD;
    const user = envOf('postgresql').POSTGRES_USER;
    expect(password).toBeTruthy();
    expect(envOf('schema')).toMatchObject({ SQL_HOST: 'postgresql', SQL_PORT: '5432', SQL_USER: user });
    expect(envOf('schema').SQL_PASSWORD).toBe(password);
    expect(envOf('temporal')).toMatchObject({ POSTGRES_ADDRESS: 'postgresql:5432', POSTGRES_USER: user });
    expect(envOf('temporal').POSTGRES_PASSWORD).toBe(password);
    // With POSTGRES_PASSWORD set in the shell, all three follow it.
    const set = (name: string, key: string) =>
      interpolate(String(service(name).environment?.[key]), { POSTGRES_PASSWORD: 'other' });
    expect([
      set('postgresql', 'POSTGRES_PASSWORD'),
      set('schema', 'SQL_PASSWORD'),
      set('temporal', 'POSTGRES_PASSWORD'),
    ]).toEqual(['other', 'other', 'other']);
  });

  it('the schema step runs deploy/setup-schema.sh with the variables it reads', () => {
    const target = mounts('schema').get(DEPLOY_FILES.setupSchema);
    expect(service('schema').entrypoint).toEqual(['sh', target]);
    const script = read(DEPLOY_FILES.setupSchema);
    const scriptVars = new Set([...script.matchAll(/\$\{([A-Z_]+)/g)].map((m) => m[1]));
    // The sql tool reads SQL_*; the script reads SQL_TOOL and TEMPORAL_SCHEMA_DIR.
    for (const key of Object.keys(envOf('schema')))
      expect([key, key.startsWith('SQL_') || scriptVars.has(key)]).toEqual([key, true]);
    expect(envOf('schema').TEMPORAL_SCHEMA_DIR).toBe('/etc/temporal/schema/postgresql/v12');
  });

  it('renders the same server config for compose and for up --postgres, differing only in addresses', () => {
    const template = read(DEPLOY_FILES.serverConfig);
    const vars = templateVariables(template);
    const temporal = service('temporal');
    // Every variable compose sets is one the template reads (no typo goes unnoticed).
    for (const key of Object.keys(envOf('temporal'))) expect([key, vars.has(key)]).toEqual([key, true]);
    // The command sets the addresses from the container's own (hostname -i) and names the config file mounted.
    const command = Array.isArray(temporal.command) ? temporal.command.join(' ') : String(temporal.command);
    const inline = Object.fromEntries(
      [...interpolate(command, {}).matchAll(/([A-Z_]+)=\S+/g)].map((m) => [m[1] as string, '172.18.0.3']),
    );
    expect(Object.keys(inline).sort()).toEqual(['TEMPORAL_BROADCAST_ADDRESS', 'TEMPORAL_FRONTEND_ADDRESS']);
    const flags = /--root (\S+) --config (\S+) --env (\S+)/.exec(command);
    expect(flags).not.toBeNull();
    const [, root = '', configDir = '', envName = ''] = flags ?? [];
    const serverMounts = mounts('temporal');
    expect(serverMounts.get(DEPLOY_FILES.serverConfig)).toBe(path.posix.join(root, configDir, `${envName}.yaml`));

    const composeCfg = parse(renderTemplate(template, { ...envOf('temporal'), ...inline }));
    const db = { host: '127.0.0.1', port: 5433, user: 'temporal', password: 'p"w\\d' };
    const upCfg = parse(renderTemplate(template, serverEnvironment(db, 39_233)));
    // Same shape, same stores, same services.
    const shape = (o: unknown): unknown =>
      o && typeof o === 'object' ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k, shape(v)])) : typeof o;
    expect(shape(composeCfg)).toEqual(shape(upCfg));
    expect(upCfg.persistence.datastores.default.sql).toMatchObject({
      connectAddr: '127.0.0.1:5433',
      user: 'temporal',
      password: 'p"w\\d',
    });
    expect(composeCfg.persistence.datastores.visibility.sql).toMatchObject({
      pluginName: 'postgres12',
      databaseName: 'temporal_visibility',
      connectAddr: 'postgresql:5432',
    });
    // The dynamic config the server reads (relative to its working directory) is the file compose mounts.
    expect(path.posix.join(temporal.working_dir ?? '/', composeCfg.dynamicConfigClient.filepath)).toBe(
      serverMounts.get(DEPLOY_FILES.dynamicConfig),
    );
    // Frontend published on 7233 in compose, on the chosen port for up; every membership port fits a smallint.
    expect(composeCfg.services.frontend.rpc.grpcPort).toBe(7233);
    expect(service('temporal').ports).toContain('7233:7233');
    expect(upCfg.services.frontend.rpc.grpcPort).toBe(39_233);
    expect(upCfg.clusterMetadata.clusterInformation.active.rpcAddress).toBe('127.0.0.1:39233');
    for (const cfg of [composeCfg, upCfg]) {
      const ports = Object.values(
        cfg.services as Record<string, { rpc: { grpcPort: number; membershipPort: number } }>,
      );
      for (const p of ports) expect(p.rpc.membershipPort).toBeLessThan(32_768);
      expect(new Set(ports.flatMap((p) => [p.rpc.grpcPort, p.rpc.membershipPort])).size).toBe(ports.length * 2);
    }
    expect(composeCfg.services.frontend.rpc.bindOnIP).toBe('0.0.0.0');
    expect(upCfg.services.frontend.rpc.bindOnIP).toBe('127.0.0.1');
  });

  it('renders the UI config for compose and for up --postgres from one file', () => {
    const template = read(DEPLOY_FILES.uiConfig);
    const vars = templateVariables(template);
    for (const key of Object.keys(envOf('temporal-ui'))) expect([key, vars.has(key)]).toEqual([key, true]);
    // The image runs `ui-server --env docker` in /home/ui-server: the mounted file replaces its config.
    expect(mounts('temporal-ui').get(DEPLOY_FILES.uiConfig)).toBe('/home/ui-server/config/docker.yaml');
    const composeCfg = parse(renderTemplate(template, envOf('temporal-ui'), { html: true }));
    expect(composeCfg.temporalGrpcAddress).toBe('temporal:7233');
    const [hostPort, containerPort] = (service('temporal-ui').ports?.[0] ?? '').split(':');
    expect(String(composeCfg.port)).toBe(containerPort);
    expect(composeCfg.cors.allowOrigins).toEqual([`http://localhost:${hostPort}`]);
    const upCfg = parse(renderTemplate(template, uiEnvironment('127.0.0.1:7233', 8234, 'team'), { html: true }));
    expect(upCfg).toEqual({
      temporalGrpcAddress: '127.0.0.1:7233',
      port: 8234,
      enableUi: true,
      defaultNamespace: 'team',
      cors: { allowOrigins: ['http://127.0.0.1:8234'] },
    });
  });

  it('workers, MCP server and the setup step run commands of this project on the same namespace', () => {
    const pkg = JSON.parse(read(path.join(ROOT, 'package.json'))) as { bin: Record<string, string> };
    expect(service('worker').command).toEqual(['node', 'dist/worker.js']);
    expect(service('mcp').command).toEqual(['node', pkg.bin['agent-runtime'], 'serve']);
    expect(service('setup').command).toEqual(['node', pkg.bin['agent-runtime'], 'setup']);
    for (const name of ['setup', 'worker', 'mcp']) {
      expect(service(name).build).toBe('.');
      expect(envOf(name)).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'default' });
    }
    expect(envOf('temporal-ui').TEMPORAL_DEFAULT_NAMESPACE).toBe('default');
    expect(() => interpolate(String(service('mcp').environment?.AGENT_RUNTIME_TOKEN), {})).toThrow(
      /set AGENT_RUNTIME_TOKEN/,
    );
  });
});

test('the production dynamic config admits what the embedded dev server does', () => {
  const yaml = parse(fs.readFileSync(DEPLOY_FILES.dynamicConfig, 'utf8')) as Record<string, Array<{ value: unknown }>>;
  for (const [key, value] of Object.entries(DEV_SERVER_DYNAMIC_CONFIG)) {
    expect([key, yaml[key]?.[0]?.value]).toEqual([key, value]);
  }
  expect(DEV_SERVER_DYNAMIC_CONFIG['frontend.namespaceRPS.visibility']).toBeGreaterThanOrEqual(100);
});

describe('agent-runtime setup (the compose one-shot)', () => {
  const cli = path.join(ROOT, 'dist', 'cli.js');
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, [cli, 'setup'], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 90_000 });

  it('creates a namespace with the search attributes, and says so again without harm', async () => {
    const namespace = uid('setup');
    const address = process.env.TEST_TEMPORAL_ADDRESS as string;
    const first = run({ TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace });
    expect([first.status, first.stderr]).toEqual([0, expect.stringContaining(`Namespace ${namespace}`)]);
    expect(first.stderr).toContain('created');
    const connection = await Connection.connect({ address });
    try {
      const listed = await connection.operatorService.listSearchAttributes({ namespace });
      expect(Object.keys(listed.customAttributes ?? {})).toEqual(
        expect.arrayContaining(Object.keys(SEARCH_ATTRIBUTES)),
      );
    } finally {
      await connection.close();
    }
    const second = run({ TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace });
    expect([second.status, second.stderr]).toEqual([0, expect.stringContaining('already there')]);
  });

  it('gives up with a clear error when no Temporal answers', () => {
    const r = run({ TEMPORAL_ADDRESS: '127.0.0.1:1', AGENT_RUNTIME_SETUP_SECONDS: '2' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Temporal at 127.0.0.1:1 did not answer within 2 s');
  });
});
