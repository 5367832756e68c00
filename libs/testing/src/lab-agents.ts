import type { GraphQLClient } from './graphql-client';
import { waitFor } from './processes';

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
  /** State directory per controller (default: the lab's per-controller one). */
  stateDir?: (node: string) => string;
  logLevel?: string;
}

/** The agent's environment in one controller. */
export function labAgentEnv(node: string, opts: LabAgentOptions): Record<string, string> {
  return {
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
    const started = await lab.spawnAgent(node, labAgentEnv(node, opts));
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
