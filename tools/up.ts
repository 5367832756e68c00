/**
 * Brings up the whole system on this machine and leaves it running: a private operator-mode
 * nats-server, the api and the worker, a demo tenant, a demo cloud and cluster, and controller
 * agents enrolled with a token — each agent with its own real haproxy — then applies the demo
 * spec and prints where to look. Idempotent: what already runs is left alone. `tools/down.sh`
 * stops everything it started (by PID).
 *
 * State lives in `.triad/` at the repository root (gitignored).
 */
import { spawn, execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmtCreds } from '@nats-io/jwt';
import { fromSeed } from '@nats-io/nkeys';
import { Client } from 'pg';
import { SERVICE_CATALOGUE, type CatalogueServiceName } from '@triad/spec';
import { GraphQLClient, NATS_SERVER_BIN, REPO_ROOT, operatorSetup, waitFor } from '@triad/testing';

const STATE = join(REPO_ROOT, '.triad');
const RUN = join(STATE, 'run');
const LOGS = join(STATE, 'logs');
const HTTP_PORT = 4000;
const GRPC_BIND = '127.0.0.1:4001';
const NATS_PORT = 4223;
const NATS_MONITOR_PORT = 8223;
const PG_SERVER = process.env.TRIAD_PG_SERVER ?? 'postgres://postgres:postgres@127.0.0.1:5432';
const DATABASE_URL = `${PG_SERVER}/triad`;
const CONTROLLERS = [1, 2, 3].map((i) => ({
  name: `controller-${i}`,
  internal: `127.0.2.${i}`,
  haproxy: `127.0.1.${i}`,
}));
// Stand-in OpenStack API ports (each controller answers on its internal address).
const DEMO_SERVICES: { name: CatalogueServiceName; port: number }[] = [
  { name: 'keystone', port: 5000 },
  { name: 'glance-api', port: 9292 },
  { name: 'nova-api', port: 8774 },
  { name: 'placement', port: 8778 },
  { name: 'neutron-server', port: 9696 },
  { name: 'cinder-api', port: 8776 },
  { name: 'heat-api', port: 8004 },
  { name: 'horizon', port: 80 },
];

const say = (msg: string) => process.stdout.write(`[up] ${msg}\n`);

function alive(name: string): boolean {
  const pidFile = join(RUN, `${name}.pid`);
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts a detached daemon (survives this script) with its log in .triad/logs and its PID in .triad/run. */
function daemon(name: string, command: string, args: string[], env: Record<string, string>): void {
  if (alive(name)) {
    say(`${name} already running`);
    return;
  }
  const log = openSync(join(LOGS, `${name}.log`), 'a');
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', SWC_NODE_PROJECT: join(REPO_ROOT, 'tsconfig.json'), ...env },
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  writeFileSync(join(RUN, `${name}.pid`), String(child.pid));
  child.unref();
  say(`started ${name} (pid ${child.pid}, log .triad/logs/${name}.log)`);
}

const tsDaemon = (name: string, entry: string, args: string[], env: Record<string, string>) =>
  daemon(name, process.execPath, ['-r', '@swc-node/register', join(REPO_ROOT, entry), ...args], env);

async function ensureNats(): Promise<Record<string, string>> {
  const dir = join(STATE, 'nats');
  const conf = join(dir, 'nats.conf');
  if (!existsSync(conf)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const op = await operatorSetup();
    writeFileSync(join(dir, 'control-plane.creds'), fmtCreds(op.controlPlaneCreds.jwt, fromSeed(new TextEncoder().encode(op.controlPlaneCreds.seed))), { mode: 0o600 });
    writeFileSync(join(dir, 'account-signing.seed'), op.accountSigningSeed, { mode: 0o600 });
    writeFileSync(join(dir, 'account.pub'), op.accountPublicKey);
    writeFileSync(
      conf,
      [
        'host: 127.0.0.1',
        `port: ${NATS_PORT}`,
        `http: 127.0.0.1:${NATS_MONITOR_PORT}`,
        `jetstream { store_dir: "${join(dir, 'jetstream')}", max_memory_store: 64MB, max_file_store: 1GB }`,
        op.config,
      ].join('\n'),
      { mode: 0o600 },
    );
  }
  daemon('nats', NATS_SERVER_BIN, ['-c', conf], {});
  await waitFor('nats-server healthz', async () => (await fetch(`http://127.0.0.1:${NATS_MONITOR_PORT}/healthz?js-enabled-only=true`)).ok, 20_000, 100);
  return {
    NATS_URL: `nats://127.0.0.1:${NATS_PORT}`,
    NATS_CREDS_FILE: join(dir, 'control-plane.creds'),
    NATS_ACCOUNT_SIGNING_SEED_FILE: join(dir, 'account-signing.seed'),
    NATS_ACCOUNT_PUBLIC_KEY: readFileSync(join(dir, 'account.pub'), 'utf8').trim(),
  };
}

async function ensureDatabase(): Promise<void> {
  const admin = new Client({ connectionString: `${PG_SERVER}/postgres` });
  await admin.connect();
  const exists = await admin.query(`select 1 from pg_database where datname = 'triad'`);
  if (exists.rowCount === 0) await admin.query('create database triad');
  await admin.end();
  execFileSync('bash', [join(REPO_ROOT, 'tools/db.sh'), 'migrate'], { env: { ...process.env, DATABASE_URL }, stdio: ['ignore', 'ignore', 'inherit'] });
  say('database triad migrated');
}

function ensureSigningKey(): string {
  const file = join(STATE, 'keys', 'command-signing.pem');
  if (!existsSync(file)) {
    mkdirSync(join(STATE, 'keys'), { recursive: true, mode: 0o700 });
    writeFileSync(file, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  return file;
}

async function demoTenantToken(env: Record<string, string>): Promise<string> {
  const file = join(STATE, 'demo-token');
  if (!existsSync(file)) {
    execFileSync(process.execPath, ['-r', '@swc-node/register', join(REPO_ROOT, 'apps/api/src/admin.ts'), 'bootstrap-tenant', '--name', 'Demo', '--slug', 'demo', '--out', file], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env, SWC_NODE_PROJECT: join(REPO_ROOT, 'tsconfig.json') },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  }
  return readFileSync(file, 'utf8').trim();
}

function demoSpec() {
  return {
    apiVersion: 'triad.io/v1',
    kind: 'ClusterSpec',
    metadata: { name: 'demo' },
    topology: {
      mode: 'ACTIVE_ACTIVE',
      nodes: CONTROLLERS.map((c) => ({ name: c.name, managementAddress: c.internal, internalAddress: c.internal })),
      networks: { public: { cidr: '127.0.3.0/24' }, internal: { cidr: '127.0.2.0/24' } },
    },
    // Each service's VIP in the network the catalogue puts it on (public or internal).
    services: DEMO_SERVICES.map((s, i) => ({ name: s.name, vip: SERVICE_CATALOGUE[s.name].network === 'public' ? `127.0.3.${10 + i}` : `127.0.2.${110 + i}` })),
    galera: { clusterName: 'demo-galera', vip: '127.0.2.100' },
    rabbitmq: { erlangCookie: { secretRef: 'rabbitmq-erlang-cookie' } },
    pacemaker: { properties: { stonithEnabled: false } },
    // The local demo has no fencing devices; a real cloud must not acknowledge this lightly.
    acknowledgedWarnings: ['STONITH_DISABLED'],
  };
}

async function main(): Promise<void> {
  for (const d of [STATE, RUN, LOGS]) mkdirSync(d, { recursive: true, mode: 0o700 });
  const nats = await ensureNats();
  await ensureDatabase();
  const env: Record<string, string> = {
    DATABASE_URL,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: 'triad-demo:',
    ...nats,
    COMMAND_SIGNING_KEY_FILE: ensureSigningKey(),
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(HTTP_PORT),
    GRPC_BIND,
    HEARTBEAT_INTERVAL_MS: '2000',
  };
  tsDaemon('api', 'apps/api/src/main.ts', [], env);
  tsDaemon('worker', 'apps/worker/src/main.ts', [], env);
  const base = `http://127.0.0.1:${HTTP_PORT}`;
  await waitFor('api /healthz', async () => (await fetch(`${base}/healthz`)).ok, 120_000, 250);

  const gql = new GraphQLClient(`${base}/graphql`, await demoTenantToken(env));
  const clouds = await gql.ok<{ clouds: { edges: { node: { id: string; name: string } }[] } }>(`{ clouds(first: 100) { edges { node { id name } } } }`);
  const cloudId =
    clouds.clouds.edges.find((e) => e.node.name === 'demo-cloud')?.node.id ??
    (await gql.ok<{ createCloud: { id: string } }>(`mutation { createCloud(name: "demo-cloud", description: "local demo") { id } }`)).createCloud.id;
  const clusters = await gql.ok<{ clusters: { edges: { node: { id: string; name: string } }[] } }>(`query($c: ID!) { clusters(cloudId: $c, first: 100) { edges { node { id name } } } }`, { c: cloudId });
  const clusterId =
    clusters.clusters.edges.find((e) => e.node.name === 'demo')?.node.id ??
    (await gql.ok<{ createCluster: { id: string } }>(`mutation($c: ID!) { createCluster(cloudId: $c, name: "demo") { id } }`, { c: cloudId })).createCluster.id;

  // Stand-in OpenStack APIs on each controller's internal address.
  for (const c of CONTROLLERS) {
    tsDaemon(`standin-${c.name}`, 'tools/lab/standin-service.ts', ['--node', c.name, ...DEMO_SERVICES.flatMap((s) => ['--listen', `${s.name}=${c.internal}:${s.port}`])], {});
  }

  // Agents: enrolled once with a token; afterwards they start from their persisted identity.
  const needsToken = CONTROLLERS.some((c) => !existsSync(join(STATE, 'agents', c.name, 'state', 'identity.json')));
  const token = needsToken
    ? (
        await gql.ok<{ createEnrollmentToken: { secret: string } }>(
          `mutation($c: ID!) { createEnrollmentToken(clusterId: $c, name: "demo agents", maxUses: 3, ttlSeconds: 600) { secret } }`,
          { c: clusterId },
        )
      ).createEnrollmentToken.secret
    : undefined;
  for (const c of CONTROLLERS) {
    const dir = join(STATE, 'agents', c.name);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const enrolled = existsSync(join(dir, 'state', 'identity.json'));
    tsDaemon(`agent-${c.name}`, 'apps/agent/src/main.ts', [], {
      TRIAD_CONTROL_PLANE: GRPC_BIND,
      ...(enrolled || !token ? {} : { TRIAD_ENROLLMENT_TOKEN: token }),
      TRIAD_STATE_DIR: join(dir, 'state'),
      TRIAD_NODE_NAME: c.name,
      TRIAD_HAPROXY_MODE: 'managed',
      TRIAD_HAPROXY_CONFIG: join(dir, 'haproxy.cfg'),
      TRIAD_HAPROXY_STATS_SOCKET: join(dir, 'haproxy-stats.sock'),
      TRIAD_HAPROXY_BIND_ADDRESS: c.haproxy,
      TRIAD_HAPROXY_MAXCONN: '4096',
    });
  }
  type NodeView = { name: string; status: string; appliedRevision: number };
  const nodes = async () =>
    (await gql.ok<{ cluster: { currentRevision: number; nodes: { edges: { node: NodeView }[] } } }>(
      `query($id: ID!) { cluster(id: $id) { currentRevision nodes(first: 20) { edges { node { name status appliedRevision } } } } }`,
      { id: clusterId },
    )).cluster;
  await waitFor('every controller ONLINE', async () => {
    const c = await nodes();
    return c.nodes.edges.length === CONTROLLERS.length && c.nodes.edges.every((e) => e.node.status === 'ONLINE');
  }, 120_000, 500);

  let cluster = await nodes();
  if (cluster.currentRevision === 0) {
    await gql.ok(`mutation($id: ID!, $spec: JSON!) { updateClusterSpec(clusterId: $id, spec: $spec, expectedRevision: 0) { revision { revision } } }`, {
      id: clusterId,
      spec: demoSpec(),
    });
  }
  await waitFor('the demo spec applied on every controller', async () => {
    cluster = await nodes();
    return cluster.nodes.edges.every((e) => e.node.appliedRevision === cluster.currentRevision);
  }, 120_000, 500);

  const lines = [
    '',
    'Triad is up.',
    `  GraphQL:        ${base}/graphql   (Authorization: Bearer $(cat .triad/demo-token))`,
    `  demo token:     ${join(STATE, 'demo-token')}`,
    `  cluster:        demo (${clusterId}), revision ${cluster.currentRevision} applied on ${cluster.nodes.edges.map((e) => e.node.name).join(', ')}`,
    `  agent gRPC:     ${GRPC_BIND}     NATS (JWT auth): nats://127.0.0.1:${NATS_PORT}`,
    '  services through each controller\'s haproxy, e.g.:',
    ...CONTROLLERS.map((c) => `    curl http://${c.haproxy}:5000/v3        # keystone via ${c.name}`),
    `  logs:           ${LOGS}/`,
    '  stop:           bash tools/down.sh',
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

main().catch((e: unknown) => {
  process.stderr.write(`[up] failed: ${e instanceof Error ? e.message : String(e)}\n(see the logs in .triad/logs)\n`);
  process.exit(1);
});
