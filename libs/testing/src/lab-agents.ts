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

export interface LabAgentOptions {
  /** The control plane's gRPC `host:port` as the controllers reach it (the lab gateway). */
  controlPlane: string;
  /** Needed only by an agent without an identity yet. */
  enrollmentToken?: string;
  /**
   * `external`: Pacemaker runs haproxy (the lab's HAProxy clone) with this master socket; the agent
   * writes /etc/haproxy/haproxy.cfg and reloads through it. `managed`: the agent runs haproxy itself.
   */
  haproxy: { mode: 'external'; masterSocket: string } | { mode: 'managed' };
  /**
   * Also the Galera driver (TRIAD_GALERA_MODE pacemaker: it installs galera.cnf and serves
   * clustercheck on the controller's address, port 9200, which HAProxy's galera backends check;
   * Pacemaker keeps running mariadbd). Only with a lab cluster that has the Galera clone.
   */
  galera?: boolean;
  /** State directory per controller (default: the lab's per-controller one). */
  stateDir?: (node: string) => string;
  logLevel?: string;
}

/** The agent's environment in one controller. */
export function labAgentEnv(controller: { name: string; address: string }, opts: LabAgentOptions): Record<string, string> {
  const node = controller.name;
  return {
    ...(opts.galera ? { TRIAD_COMPONENTS: 'haproxy,galera', TRIAD_GALERA_MODE: 'pacemaker', TRIAD_GALERA_CLUSTERCHECK_ADDRESS: controller.address } : {}),
    TRIAD_CONTROL_PLANE: opts.controlPlane,
    ...(opts.enrollmentToken ? { TRIAD_ENROLLMENT_TOKEN: opts.enrollmentToken } : {}),
    ...(opts.stateDir ? { TRIAD_STATE_DIR: opts.stateDir(node) } : {}),
    TRIAD_HAPROXY_MODE: opts.haproxy.mode,
    ...(opts.haproxy.mode === 'external'
      ? { TRIAD_HAPROXY_MASTER_SOCKET: opts.haproxy.masterSocket }
      : // The rendered maxconn needs more open files than this host allows a process.
        { TRIAD_HAPROXY_MAXCONN: '4096' }),
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
    return new Promise((resolve) => {
      execFile(LabCli.BIN, ['--name', this.name, 'exec', node, '--', ...argv], { timeout: 60_000 }, (error, stdout) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout }),
      );
    });
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
