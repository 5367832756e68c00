/**
 * Brings up the whole system on this machine and leaves it running: the lab "triad" (three
 * controllers as network namespaces, tools/lab, nothing configured in them), a private
 * operator-mode nats-server and the api's agent gRPC listening on the lab gateway, the api and the
 * worker, a demo tenant, cloud and cluster, a Triad agent in every controller enrolled with a
 * token, then applies the demo spec: the agents' drivers start Corosync/Pacemaker and push the CIB
 * (VIPs, HAProxy clone, Galera, RabbitMQ). Then it checks what a user would (the keystone VIP from
 * this host, a SQL write through the Galera VIP read back from every controller's own mariadbd),
 * prints the times and where to look. Idempotent: what already runs is left alone.
 * `tools/down.sh` stops everything it started.
 *
 * State lives in `.triad/` at the repository root (gitignored); the lab's in /var/lib/triad-lab/triad.
 */
import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fmtCreds } from '@nats-io/jwt';
import { fromSeed } from '@nats-io/nkeys';
import { Client } from 'pg';
import { GraphQLClient, NATS_SERVER_BIN, REPO_ROOT, galeraWriteThroughVip, operatorSetup, selfSignedCertificate, startLabAgents, waitFor, waitForClusterApplied, type SelfSignedCertificate } from '@triad/testing';
import { Lab } from './lab/src/lab';
import { labClusterSpec } from './lab/src/lab-cluster-spec';

const STATE = join(REPO_ROOT, '.triad');
const RUN = join(STATE, 'run');
const LOGS = join(STATE, 'logs');
const LAB_NAME = 'triad';
const CONTROLLERS = 3;
const HTTP_PORT = 4000;
const GRPC_PORT = 4001;
const NATS_PORT = 4223;
const NATS_MONITOR_PORT = 8223;
const PG_SERVER = process.env.TRIAD_PG_SERVER ?? 'postgres://postgres:postgres@127.0.0.1:5432';
const DATABASE_URL = `${PG_SERVER}/triad`;

const say = (msg: string) => process.stdout.write(`[up] ${msg}\n`);

function pidOf(name: string): number | undefined {
  const pidFile = join(RUN, `${name}.pid`);
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}
const alive = (name: string) => pidOf(name) !== undefined;

/** Stops a daemon this script started (TERM, KILL after 10 s). */
async function stopDaemon(name: string): Promise<void> {
  const pid = pidOf(name);
  rmSync(join(RUN, `${name}.pid`), { force: true });
  if (pid === undefined) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      say(`stopped ${name}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  process.kill(pid, 'SIGKILL');
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

function tcpAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port, timeout: 2_000 });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.once('connect', () => finish(true));
    socket.once('timeout', () => finish(false));
    socket.once('error', () => finish(false));
  });
}

/** The running lab, or a new one when none runs (`fresh`: its controllers start empty). */
async function ensureLab(): Promise<{ lab: Lab; fresh: boolean }> {
  try {
    const lab = Lab.open(LAB_NAME);
    const status = await lab.status();
    if (status.phase === 'up' && status.controllers.some((c) => c.anchorAlive)) {
      say(`lab ${LAB_NAME} already running (tools/lab/lab status)`);
      return { lab, fresh: false };
    }
  } catch {
    // No lab yet.
  }
  const t0 = Date.now();
  const lab = await Lab.up({ name: LAB_NAME, controllers: CONTROLLERS });
  say(`lab ${LAB_NAME} up: ${lab.controllers.map((c) => `${c.name} ${c.address}`).join(', ')}, gateway ${lab.gatewayAddress} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return { lab, fresh: true };
}

/**
 * The private operator-mode nats-server, listening on the lab gateway only: the controllers' agents
 * and the control plane (on this host) reach it there; nothing outside this machine can.
 */
async function ensureNats(host: string): Promise<Record<string, string>> {
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
        `host: ${host}`,
        `port: ${NATS_PORT}`,
        `http: 127.0.0.1:${NATS_MONITOR_PORT}`,
        `jetstream { store_dir: "${join(dir, 'jetstream')}", max_memory_store: 64MB, max_file_store: 1GB }`,
        op.config,
      ].join('\n'),
      { mode: 0o600 },
    );
  }
  const text = readFileSync(conf, 'utf8');
  if (!text.startsWith(`host: ${host}\n`)) {
    // State from an earlier up that listened elsewhere (loopback): same accounts, new listener.
    writeFileSync(conf, text.replace(/^host: .*\n/, `host: ${host}\n`), { mode: 0o600 });
    await stopDaemon('nats');
  }
  daemon('nats', NATS_SERVER_BIN, ['-c', conf], {});
  await waitFor('nats-server healthz', async () => (await fetch(`http://127.0.0.1:${NATS_MONITOR_PORT}/healthz?js-enabled-only=true`)).ok, 20_000, 100);
  return {
    // Agents are told this address at enrollment (NATS_AGENT_SERVERS defaults to NATS_URL).
    NATS_URL: `nats://${host}:${NATS_PORT}`,
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

/**
 * The agent gRPC server's certificate (self-signed, for loopback and the lab gateway): made once
 * per gateway and kept, so agents started by an earlier up keep trusting the api they talk to.
 */
function ensureGrpcCertificate(gateway: string): SelfSignedCertificate {
  const dir = join(STATE, 'keys', `grpc-tls-${gateway}`);
  const cert = { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') };
  if (existsSync(cert.certFile) && existsSync(cert.keyFile)) return cert;
  return selfSignedCertificate(dir, { ips: ['127.0.0.1', gateway], days: 3650 });
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
    // --rotate: a database kept from an earlier up whose .triad was removed still has the tenant;
    // the file is the demo's only copy of its owner token, so a lost one is revoked and re-issued.
    execFileSync(process.execPath, ['-r', '@swc-node/register', join(REPO_ROOT, 'apps/api/src/admin.ts'), 'bootstrap-tenant', '--name', 'Demo', '--slug', 'demo', '--out', file, '--rotate'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env, SWC_NODE_PROJECT: join(REPO_ROOT, 'tsconfig.json') },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  }
  return readFileSync(file, 'utf8').trim();
}

/** The same JSON whatever the key order (the api returns the stored spec's keys in its own order). */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([x], [y]) => (x < y ? -1 : 1))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

async function main(): Promise<void> {
  const tUp = Date.now();
  const took = (t: number) => `${((Date.now() - t) / 1000).toFixed(1)} s`;
  const times: [string, string][] = [];
  for (const d of [STATE, RUN, LOGS]) mkdirSync(d, { recursive: true, mode: 0o700 });
  // Agents of an earlier up ran on loopback with the identities the lab's agents take over.
  for (let i = 1; i <= CONTROLLERS; i++) for (const name of [`agent-controller-${i}`, `standin-controller-${i}`]) await stopDaemon(name);

  const { lab, fresh } = await ensureLab();
  const gateway = lab.gatewayAddress;
  const nats = await ensureNats(gateway);
  await ensureDatabase();
  const grpcBind = `127.0.0.1:${GRPC_PORT},${gateway}:${GRPC_PORT}`;
  const grpcTls = ensureGrpcCertificate(gateway);
  const env: Record<string, string> = {
    DATABASE_URL,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: 'triad-demo:',
    ...nats,
    COMMAND_SIGNING_KEY_FILE: ensureSigningKey(),
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(HTTP_PORT),
    // Loopback for tools on this host, the gateway for the agents in the controllers.
    GRPC_BIND: grpcBind,
    // TLS as in production; the agents trust this self-signed certificate (TRIAD_GRPC_TLS_CA_FILE).
    GRPC_TLS_CERT_FILE: grpcTls.certFile,
    GRPC_TLS_KEY_FILE: grpcTls.keyFile,
    HEARTBEAT_INTERVAL_MS: '2000',
  };
  tsDaemon('api', 'apps/api/src/main.ts', [], env);
  tsDaemon('worker', 'apps/worker/src/main.ts', [], env);
  const base = `http://127.0.0.1:${HTTP_PORT}`;
  await waitFor('api /healthz', async () => (await fetch(`${base}/healthz`)).ok, 120_000, 250);
  if (!(await tcpAnswers(gateway, GRPC_PORT))) {
    throw new Error(`the api does not listen on ${gateway}:${GRPC_PORT} for the agents (started by an earlier up with another GRPC_BIND?): run \`bash tools/down.sh\` and up again`);
  }

  const gql = new GraphQLClient(`${base}/graphql`, await demoTenantToken(env));
  const clouds = await gql.ok<{ clouds: { edges: { node: { id: string; name: string } }[] } }>(`{ clouds(first: 100) { edges { node { id name } } } }`);
  const cloudId =
    clouds.clouds.edges.find((e) => e.node.name === 'demo-cloud')?.node.id ??
    (await gql.ok<{ createCloud: { id: string } }>(`mutation { createCloud(name: "demo-cloud", description: "local demo") { id } }`)).createCloud.id;
  const clusters = await gql.ok<{ clusters: { edges: { node: { id: string; name: string } }[] } }>(`query($c: ID!) { clusters(cloudId: $c, first: 100) { edges { node { id name } } } }`, { c: cloudId });
  const clusterId =
    clusters.clusters.edges.find((e) => e.node.name === 'demo')?.node.id ??
    (await gql.ok<{ createCluster: { id: string } }>(`mutation($c: ID!) { createCluster(cloudId: $c, name: "demo") { id } }`, { c: cloudId })).createCluster.id;

  // The demo spec: the lab's controllers, VIPs .10-.12 (keystone, glance-api, nova-api), Galera .100.
  const spec = labClusterSpec(lab, { metadata: { name: 'demo' } });
  const status = await lab.status();
  const running = (node: string, process: string) => status.controllers.find((c) => c.name === node)?.processes.some((p) => p.name === process && p.alive) ?? false;
  const vip = (i: number) => `${gateway.replace(/\.254$/, '')}.${i}`;

  // Agents: enrolled once with a token; their identity is kept in .triad/agents (not in the lab,
  // which `down` deletes), so a new lab's agents come back as the same nodes.
  const stateDir = (node: string) => join(STATE, 'agents', node, 'state');
  const toStart = lab.controllers.filter((c) => !running(c.name, 'agent')).map((c) => c.name);
  for (const node of toStart) {
    mkdirSync(stateDir(node), { recursive: true, mode: 0o700 });
    // New controllers hold nothing Triad applied: let the control plane send the current revision again.
    if (fresh) rmSync(join(stateDir(node), 'applied.json'), { force: true });
  }
  for (const node of toStart) {
    const file = join(stateDir(node), 'identity.json');
    if (!existsSync(file)) continue;
    const servers = (JSON.parse(readFileSync(file, 'utf8')) as { enrollment?: { nats?: { servers?: string[] } } }).enrollment?.nats?.servers ?? [];
    if (!servers.includes(nats.NATS_URL)) {
      // Enrolled by an earlier up whose agents ran on loopback: their node names are taken by these
      // identities, which point at a NATS listener that no longer exists.
      throw new Error(`the agent identity in ${file} was enrolled for NATS at ${servers.join(', ')}, not ${nats.NATS_URL} (an earlier up without the lab): run \`bash tools/down.sh --purge\` and up again`);
    }
  }
  const needsToken = toStart.some((node) => !existsSync(join(stateDir(node), 'identity.json')));
  const token = needsToken
    ? (
        await gql.ok<{ createEnrollmentToken: { secret: string } }>(
          `mutation($c: ID!, $n: Int!) { createEnrollmentToken(clusterId: $c, name: "lab agents", maxUses: $n, ttlSeconds: 600) { secret } }`,
          { c: clusterId, n: toStart.length },
        )
      ).createEnrollmentToken.secret
    : undefined;
  if (toStart.length > 0) {
    // Every driver: applying the spec starts Corosync/Pacemaker and pushes the CIB (docs/lab.md).
    await startLabAgents(lab, { controlPlane: `${gateway}:${GRPC_PORT}`, grpcTls: { caFile: grpcTls.certFile }, enrollmentToken: token, stateDir }, toStart);
    say(`started the agent in ${toStart.join(', ')} (logs: ${lab.dir}/controller-N/logs/agent.log)`);
  }

  const current = await gql.ok<{ cluster: { currentRevision: number; spec: unknown } }>(`query($id: ID!) { cluster(id: $id) { currentRevision spec } }`, { id: clusterId });
  if (canonical(current.cluster.spec) !== canonical(spec)) {
    const r = await gql.ok<{ updateClusterSpec: { revision: { revision: number } } }>(
      `mutation($id: ID!, $spec: JSON!, $rev: Int!) { updateClusterSpec(clusterId: $id, spec: $spec, expectedRevision: $rev) { revision { revision } } }`,
      { id: clusterId, spec, rev: current.cluster.currentRevision },
    );
    say(`applied the demo spec as revision ${r.updateClusterSpec.revision.revision}`);
  }
  const nodes = lab.controllers.map((c) => c.name);
  const t0 = Date.now();
  const cluster = await waitForClusterApplied(gql, clusterId, nodes, 240_000);
  say(`every controller ONLINE with revision ${cluster.currentRevision} applied (${took(t0)})`);
  times.push(['spec applied → every controller ONLINE at the revision (Corosync/Pacemaker started, CIB pushed)', took(t0)]);

  await waitFor('the keystone VIP answering through the HAProxy clone', async () => (await fetch(`http://${vip(10)}:5000/v3`, { signal: AbortSignal.timeout(1_000) })).ok, 180_000, 250);
  const keystone = (await (await fetch(`http://${vip(10)}:5000/v3`)).json()) as { node?: string };
  say(`keystone VIP ${vip(10)}:5000 answers from this host (served by ${keystone.node ?? '?'})`);
  times.push(['spec applied → keystone VIP answering from the host', took(t0)]);
  const read = await galeraWriteThroughVip(lab, vip(100));
  say(`SQL write through the Galera VIP ${vip(100)}:3306 read back on ${read.map((r) => `${r.node} (its own mariadbd)`).join(', ')}`);
  times.push(['spec applied → SQL write through the Galera VIP readable on every controller', took(t0)]);
  // Galera/RabbitMQ clones take 1-2 min to form; the open findings say what is still missing.
  const appliedAt = Date.now();
  const health = () => gql.ok<{ cluster: { health: string; findings: { code: string; message: string }[] } }>(`query($id: ID!) { cluster(id: $id) { health findings { code message } } }`, { id: clusterId });
  const healthy = await waitFor('cluster HEALTHY', async () => (await health()).cluster.health === 'HEALTHY', 240_000, 500).then(() => true, () => false);
  if (healthy) {
    say(`cluster HEALTHY ${((Date.now() - appliedAt) / 1000).toFixed(1)} s after every controller applied the revision`);
    times.push(['spec applied → cluster HEALTHY', took(t0)]);
  } else say(`cluster not HEALTHY yet; open findings:\n${(await health()).cluster.findings.map((f) => `  ${f.code}: ${f.message}`).join('\n')}`);
  times.push(['up.ts in all', took(tUp)]);

  const lines = [
    '',
    'Triad is up.',
    `  GraphQL:        ${base}/graphql   (Authorization: Bearer $(cat .triad/demo-token))`,
    `  demo token:     ${join(STATE, 'demo-token')}`,
    `  cluster:        demo (${clusterId}), revision ${cluster.currentRevision} applied on ${nodes.join(', ')}`,
    `  lab:            "${LAB_NAME}", controllers ${lab.controllers.map((c) => c.address).join(', ')}, gateway ${gateway}  (tools/lab/lab status)`,
    `  agent gRPC:     ${grpcBind.replace(',', ', ')} (TLS, CA ${grpcTls.certFile})     NATS (JWT auth): ${nats.NATS_URL}`,
    '  times:',
    ...times.map(([what, t]) => `    ${what}: ${t}`),
    '  VIPs (Pacemaker IPaddr2 → HAProxy clone → stand-in APIs on every controller), from this host:',
    `    curl http://${vip(10)}:5000/v3        # keystone`,
    `    curl http://${vip(11)}:9292/          # glance-api`,
    `    curl http://${vip(12)}:8774/          # nova-api`,
    `    mysql -h ${vip(100)} -udemo -pdemo demo   # galera (Pacemaker galera clone; HAProxy checks the agents' clustercheck on :9200)`,
    `  Pacemaker:      tools/lab/lab exec 1 -- /usr/sbin/crm_mon -1`,
    `  logs:           ${LOGS}/ and ${lab.dir}/controller-N/logs/`,
    '  stop:           bash tools/down.sh',
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

main().catch((e: unknown) => {
  process.stderr.write(`[up] failed: ${e instanceof Error ? e.message : String(e)}\n(see the logs in .triad/logs and ${join('/var/lib/triad-lab', LAB_NAME)}/controller-N/logs)\n`);
  process.exit(1);
});
