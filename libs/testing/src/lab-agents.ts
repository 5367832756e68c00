import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { GraphQLClient } from './graphql-client';
import { REPO_ROOT, waitFor } from './processes';

/**
 * Triad agents inside lab controllers (tools/lab, docs/lab.md), for `tools/up.ts` and the lab
 * end-to-end test. Structural types: the lab tool is not a library this one may import.
 */
export interface AgentLab {
  readonly gatewayAddress: string;
  readonly controllers: readonly { readonly name: string; readonly address: string }[];
  spawnAgent(node: string, env: Record<string, string>): Promise<{ pid?: number; alive: boolean; logFile: string }>;
}

/** The galera resource's `binary` in the lab: tools/lab/bin/mariadbd (execs /usr/sbin/mariadbd; docs/lab.md). */
export const LAB_GALERA_SERVER_BINARY = join(REPO_ROOT, 'tools/lab/bin/mariadbd');

/** Every driver: the agents bring the lab's cluster up from nothing and keep it (docs/lab.md). */
export const LAB_AGENT_COMPONENTS = ['corosync', 'haproxy', 'galera', 'rabbitmq', 'pacemaker'] as const;

export interface LabAgentOptions {
  /** The control plane's gRPC `host:port` as the controllers reach it (the lab gateway). */
  controlPlane: string;
  /**
   * How the agents trust it: the CA file of its gRPC certificate (ControlPlane.grpcCaFile), or
   * 'insecure' for a plaintext control plane (GRPC_INSECURE, development only).
   */
  grpcTls: { caFile: string } | 'insecure';
  /** Needed only by an agent without an identity yet. */
  enrollmentToken?: string;
  /**
   * Drivers the agents run (default LAB_AGENT_COMPONENTS). HAProxy is always `external`: the
   * CIB's HAProxy clone runs it and the agent reloads it through the master socket the lab's host
   * profile gives it; Galera and RabbitMQ are in `pacemaker` mode (their resource agents run
   * them, the agent writes their files, serves clustercheck on the controller's address :9200
   * and installs the Erlang cookie).
   */
  components?: readonly (typeof LAB_AGENT_COMPONENTS)[number][];
  /** State directory per controller (default: the lab's per-controller one). */
  stateDir?: (node: string) => string;
  logLevel?: string;
}

/** The agent's environment in one controller (the lab adds what the host is like: `Lab.spawnAgent`). */
export function labAgentEnv(controller: { name: string; address: string }, opts: LabAgentOptions): Record<string, string> {
  const components = opts.components ?? LAB_AGENT_COMPONENTS;
  return {
    TRIAD_CONTROL_PLANE: opts.controlPlane,
    ...(opts.grpcTls === 'insecure' ? { TRIAD_GRPC_INSECURE: 'true' } : { TRIAD_GRPC_TLS_CA_FILE: opts.grpcTls.caFile }),
    ...(opts.enrollmentToken ? { TRIAD_ENROLLMENT_TOKEN: opts.enrollmentToken } : {}),
    ...(opts.stateDir ? { TRIAD_STATE_DIR: opts.stateDir(controller.name) } : {}),
    TRIAD_COMPONENTS: components.join(','),
    TRIAD_HAPROXY_MODE: 'external',
    // mariadbd without mysqld_safe: the controllers share the host's PID namespace (docs/lab.md).
    ...(components.includes('galera') ? { TRIAD_GALERA_MODE: 'pacemaker', TRIAD_GALERA_CLUSTERCHECK_ADDRESS: controller.address, TRIAD_GALERA_SERVER_BINARY: LAB_GALERA_SERVER_BINARY } : {}),
    ...(components.includes('rabbitmq') ? { TRIAD_RABBITMQ_MODE: 'pacemaker' } : {}),
    TRIAD_LOG_LEVEL: opts.logLevel ?? 'info',
  };
}

/** Starts an agent in every controller (or the ones named). */
export async function startLabAgents(lab: AgentLab, opts: LabAgentOptions, nodes: string[] = lab.controllers.map((c) => c.name)): Promise<void> {
  for (const node of nodes) {
    const controller = lab.controllers.find((c) => c.name === node);
    if (!controller) throw new Error(`no controller ${node} in the lab`);
    const started = await lab.spawnAgent(node, labAgentEnv(controller, opts));
    if (!started.alive) throw new Error(`the agent on ${node} did not start (log ${started.logFile})`);
  }
}

/** A program's exit code and output (never throws). */
export function runProgram(file: string, args: string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string }> {
  return new Promise((done) => {
    execFile(file, args, { timeout: timeoutMs }, (error, stdout) => done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout }));
  });
}

/** What `galeraWriteThroughVip` needs of a lab (a `Lab` or a `LabCli`). */
export interface SqlLab {
  readonly gatewayAddress: string;
  readonly controllers: readonly { readonly name: string }[];
  exec(node: string, argv: string[]): Promise<{ code: number; stdout: string }>;
}

/**
 * A row written from this host through the Galera VIP (HAProxy's galera listener → a backend whose
 * clustercheck answers) and read back on every controller from its own mariadbd (local socket, as
 * root). The SQL user `demo`/`demo` for the lab subnet is created on the first controller as in
 * docs/lab.md (Galera replicates it). Waits for Galera to form (bring-up). Resolves with each
 * controller's count of that row.
 */
export async function galeraWriteThroughVip(lab: SqlLab, galeraVip: string, timeoutMs = 300_000): Promise<{ node: string; rows: number }[]> {
  const subnet = lab.gatewayAddress.replace(/\.254$/, '');
  const mysqlIn = (node: string, sql: string) => lab.exec(node, ['/usr/bin/mysql', '-uroot', '-N', '-e', sql]);
  const setup = [
    `CREATE USER IF NOT EXISTS 'demo'@'${subnet}.%' IDENTIFIED BY 'demo'`,
    'CREATE DATABASE IF NOT EXISTS demo',
    `GRANT ALL ON demo.* TO 'demo'@'${subnet}.%'`,
    'CREATE TABLE IF NOT EXISTS demo.t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(80))',
  ].join('; ');
  const [first] = lab.controllers;
  if (!first) throw new Error('the lab has no controller');
  await waitFor(`the demo SQL user on ${first.name} (Galera Primary there)`, async () => (await mysqlIn(first.name, setup)).code === 0, timeoutMs, 1_000);
  const marker = `through the galera VIP ${Date.now()}`;
  await waitFor(
    `an INSERT through ${galeraVip}:3306`,
    async () => (await runProgram('mysql', ['-h', galeraVip, '-P', '3306', '-udemo', '-pdemo', '--connect-timeout=3', '-e', `INSERT INTO demo.t (v) VALUES ('${marker}')`])).code === 0,
    timeoutMs,
    1_000,
  );
  return Promise.all(
    lab.controllers.map(async (c) => ({
      node: c.name,
      rows: await waitFor(
        `the row on ${c.name}'s own mariadbd`,
        async () => {
          const n = Number((await mysqlIn(c.name, `SELECT COUNT(*) FROM demo.t WHERE v = '${marker}'`)).stdout.trim());
          return n > 0 && n;
        },
        60_000,
        500,
      ),
    })),
  );
}

export interface ClusterNodeView {
  name: string;
  status: string;
  appliedRevision: number;
  lastHeartbeatAt: string | null;
  facts: unknown;
}

export interface ClusterView {
  currentRevision: number;
  nodes: ClusterNodeView[];
}

/** A cluster's revision and its nodes, as GraphQL shows them. */
export async function clusterView(gql: GraphQLClient, clusterId: string): Promise<ClusterView> {
  const d = await gql.ok<{ cluster: { currentRevision: number; nodes: { edges: { node: ClusterNodeView }[] } } }>(
    `query($id: ID!) { cluster(id: $id) { currentRevision nodes(first: 50) { edges { node { name status appliedRevision lastHeartbeatAt facts } } } } }`,
    { id: clusterId },
  );
  return { currentRevision: d.cluster.currentRevision, nodes: d.cluster.nodes.edges.map((e) => e.node) };
}

/** Waits until every one of `nodes` is ONLINE at the cluster's current revision (> 0). */
export function waitForClusterApplied(gql: GraphQLClient, clusterId: string, nodes: string[], timeoutMs = 180_000): Promise<ClusterView> {
  return waitFor(
    `${nodes.join(', ')} ONLINE at the current revision`,
    async () => {
      const view = await clusterView(gql, clusterId);
      const ok = view.currentRevision > 0 && nodes.every((name) => view.nodes.some((n) => n.name === name && n.status === 'ONLINE' && n.appliedRevision === view.currentRevision));
      return ok && view;
    },
    timeoutMs,
    500,
  );
}

export interface RolloutStepView {
  nodeName: string;
  status: string;
  reason: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}
export interface RolloutView {
  status: string;
  toRevision: number;
  reason: string | null;
  steps: RolloutStepView[];
}

/** The cluster's rollout to `revision` (docs/rollouts.md), as GraphQL shows it; undefined before it exists. */
export async function rolloutTo(gql: GraphQLClient, clusterId: string, revision: number): Promise<RolloutView | undefined> {
  const d = await gql.ok<{ cluster: { rollouts: { edges: { node: RolloutView }[] } } }>(
    'query($id: ID!) { cluster(id: $id) { rollouts(first: 10) { edges { node { status toRevision reason steps { nodeName status reason startedAt finishedAt } } } } } }',
    { id: clusterId },
  );
  return d.cluster.rollouts.edges.map((e) => e.node).find((r) => r.toRevision === revision);
}

/** Waits until the rollout to `revision` has ended (SUCCEEDED, FAILED, ROLLED_BACK or SUPERSEDED). */
export function waitForRolloutEnd(gql: GraphQLClient, clusterId: string, revision: number, timeoutMs = 120_000): Promise<RolloutView> {
  return waitFor(
    `rollout of revision ${revision} finished`,
    async () => {
      const r = await rolloutTo(gql, clusterId, revision);
      return r && ['SUCCEEDED', 'FAILED', 'ROLLED_BACK', 'SUPERSEDED'].includes(r.status) ? r : undefined;
    },
    timeoutMs,
    250,
  );
}

export interface LabCliStatus {
  name: string;
  dir: string;
  gatewayAddress: string;
  controllers: { name: string; netns: string; address: string; processes: { name: string; pid?: number; alive: boolean; logFile: string }[] }[];
}

/**
 * A lab driven through its CLI (`tools/lab/lab --name NAME VERB…`), for end-to-end tests, which
 * drive the system from outside. Needs root.
 */
export class LabCli implements AgentLab {
  private constructor(
    readonly name: string,
    private status: LabCliStatus,
  ) {}

  static readonly BIN = join(REPO_ROOT, 'tools/lab/lab');

  /** Runs `tools/lab/lab --name NAME ARGS…`; throws with its output when it fails. */
  static run(name: string, args: string[], env: Record<string, string> = {}, timeoutMs = 180_000): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(LabCli.BIN, ['--name', name, ...args], { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`tools/lab/lab --name ${name} ${args.join(' ')}: ${error.message}\n${stdout}\n${stderr}`));
        else resolve(stdout);
      });
    });
  }

  /** `up N`, then the lab's status. */
  static async up(name: string, controllers = 3): Promise<LabCli> {
    await LabCli.run(name, ['up', String(controllers)]);
    const lab = new LabCli(name, { name, dir: '', gatewayAddress: '', controllers: [] });
    await lab.refresh();
    return lab;
  }

  get gatewayAddress(): string {
    return this.status.gatewayAddress;
  }
  get controllers(): LabCliStatus['controllers'] {
    return this.status.controllers;
  }

  async refresh(): Promise<LabCliStatus> {
    this.status = JSON.parse(await LabCli.run(this.name, ['status', '--json'])) as LabCliStatus;
    return this.status;
  }

  run(args: string[], env: Record<string, string> = {}): Promise<string> {
    return LabCli.run(this.name, args, env);
  }

  /** `exec NODE -- CMD…`: its exit code and output. */
  exec(node: string, argv: string[]): Promise<{ code: number; stdout: string }> {
    return runProgram(LabCli.BIN, ['--name', this.name, 'exec', node, '--', ...argv], 60_000);
  }

  /** `exec NODE -- CMD…`: its standard output, or '' when it failed. */
  async output(node: string, argv: string[]): Promise<string> {
    const r = await this.exec(node, argv);
    return r.code === 0 ? r.stdout : '';
  }

  /** The controller's own mariadbd: wsrep_cluster_size, wsrep_local_state_comment and Uptime ({} when it does not answer). */
  async wsrepStatus(node: string): Promise<Record<string, string>> {
    const text = await this.output(node, ['/usr/bin/mysql', '-uroot', '-N', '-e', "SHOW STATUS WHERE Variable_name IN ('wsrep_cluster_size','wsrep_local_state_comment','Uptime')"]);
    return Object.fromEntries(
      text
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t') as [string, string]),
    );
  }

  /** RabbitMQ's running nodes as `rabbitmqctl cluster_status` on the controller reports them, sorted ([] when it does not answer). */
  async rabbitmqRunningNodes(node: string): Promise<string[]> {
    const status = (JSON.parse((await this.output(node, ['/usr/sbin/rabbitmqctl', 'cluster_status', '--formatter', 'json'])) || '{}') as { running_nodes?: string[] }).running_nodes ?? [];
    return [...status].sort();
  }

  /** `agent NODE` with the TRIAD_* variables in its environment. */
  async spawnAgent(node: string, env: Record<string, string>): Promise<{ pid?: number; alive: boolean; logFile: string }> {
    await this.run(['agent', node], env);
    const status = await this.refresh();
    const agent = status.controllers.find((c) => c.name === node)?.processes.find((p) => p.name === 'agent');
    if (!agent) throw new Error(`no agent process on ${node} after \`agent ${node}\``);
    return agent;
  }

  down(): Promise<string> {
    return LabCli.run(this.name, ['down']);
  }
}
