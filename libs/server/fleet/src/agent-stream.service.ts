import * as grpc from '@grpc/grpc-js';
import { Cluster, Node, NodeStatus, TenantScopedRepository } from '@triad/db';
import type { Logger } from '@triad/logging';
import type { AgentMessage__Output, ArtifactDigest__Output, CommandUpdate__Output, ComponentHealth__Output, Heartbeat__Output, Hello__Output, ServerMessage } from '@triad/protocol';
import type { DataSource } from 'typeorm';
import { AgentAuthError, type AgentAuthenticator } from './agent-authenticator';
import type { NodePresenceStore, NodeRef } from './node-presence.store';
import type { NodeStateWriter, ReportedNodeState } from './node-state.writer';

/**
 * What the stream needs from the commands side (`CommandsService` of @triad/commands): every
 * command progress report, and a level-triggered nudge when an agent (re)connects so it converges
 * to the latest desired revision.
 */
export interface AgentCommandPort {
  recordUpdate(tenantId: string, nodeId: string, update: CommandUpdate__Output): Promise<{ outcome: string; status?: string }>;
  reconcileNode(tenantId: string, nodeId: string): Promise<unknown>;
}

export type AgentCall = grpc.ServerDuplexStream<AgentMessage__Output, ServerMessage>;

/** One stream's state: whether Hello came, and what a heartbeat can change as last written to Postgres. */
interface SessionState {
  greeted: boolean;
  appliedRevision: number;
  agentVersion: string | null;
  artifactsKey: string;
  healthKey: string;
  /** Clock skew is reported once per stream, not on every beat. */
  skewReported: boolean;
}

/** Commands carry expiry times and stream auth a ±60 s window: a node clock this far off is worth a warning. */
const CLOCK_SKEW_WARN_MS = 10_000;

function artifactMap(digests: ArtifactDigest__Output[]): Record<string, string> {
  return Object.fromEntries(digests.map((d) => [d.name, d.sha256]));
}

/** Order-independent (Postgres jsonb reorders keys). */
function artifactsKey(map: Record<string, string>): string {
  return JSON.stringify(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The agent broke the protocol (e.g. no Hello first): its stream is closed with FAILED_PRECONDITION. */
class ProtocolViolation extends Error {}

/** Component states only: summaries and detail (seqno, counters) change every beat and are not a state change. */
function healthKey(components: Array<Pick<ComponentHealth__Output, 'component' | 'state'>>): string {
  return components
    .map((c) => `${c.component}=${c.state}`)
    .sort()
    .join(',');
}

function storedHealthKey(health: Record<string, unknown> | null): string {
  const components = (health?.components ?? []) as Array<Pick<ComponentHealth__Output, 'component' | 'state'>>;
  return healthKey(components);
}

function healthSnapshot(components: ComponentHealth__Output[], at: Date): Record<string, unknown> {
  return {
    reportedAt: at.toISOString(),
    components: components.map((c) => {
      let detail: unknown = null;
      try {
        detail = c.detailJson ? JSON.parse(c.detailJson) : null;
      } catch {
        detail = { unparsable: c.detailJson };
      }
      return { component: c.component, state: c.state, summary: c.summary, detail };
    }),
  };
}

/**
 * One agent stream: authenticate, then Hello → Settings + DesiredState, heartbeats renew the
 * lease in Redis (Postgres only on a change), command updates go to the commands side.
 * Messages of one stream are handled one at a time, in order (the stream is paused meanwhile,
 * so a fast agent is slowed by gRPC flow control rather than queued in memory).
 */
export class AgentStreamService {
  private readonly calls = new Set<AgentCall>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly authenticator: AgentAuthenticator,
    private readonly presence: NodePresenceStore,
    private readonly writer: NodeStateWriter,
    private readonly commands: AgentCommandPort,
    private readonly settings: { heartbeatIntervalMs: number },
    private readonly logger: Logger,
  ) {}

  handle(call: AgentCall): void {
    call.pause();
    void this.authenticator.authenticate(call.metadata).then(
      (node) => this.serve(call, node),
      (err: unknown) => {
        const known = err instanceof AgentAuthError;
        if (!known) this.logger.error({ err }, 'agent authentication failed with an internal error');
        else this.logger.warn({ reason: err.message, peer: call.getPeer() }, 'agent stream refused');
        call.emit('error', { code: known ? grpc.status.UNAUTHENTICATED : grpc.status.UNAVAILABLE, details: known ? err.message : 'authentication unavailable, retry' });
      },
    );
  }

  /** Ends every open stream (shutdown): agents reconnect, possibly to another replica. */
  closeAll(): void {
    for (const call of this.calls) {
      call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'control plane instance shutting down; reconnect' });
    }
    this.calls.clear();
  }

  private serve(call: AgentCall, node: Node): void {
    const ref: NodeRef = { tenantId: node.tenantId, nodeId: node.id };
    const log = this.logger.child({ tenantId: node.tenantId, clusterId: node.clusterId, nodeId: node.id });
    const session: SessionState = {
      greeted: false,
      appliedRevision: node.appliedRevision,
      agentVersion: node.agentVersion,
      artifactsKey: artifactsKey(node.appliedArtifacts ?? {}),
      healthKey: storedHealthKey(node.health),
      skewReported: false,
    };
    this.calls.add(call);
    log.info({ peer: call.getPeer() }, 'agent connected');

    const done = () => {
      if (this.calls.delete(call)) log.info('agent stream closed');
    };
    call.on('end', () => {
      done();
      call.end();
    });
    call.on('cancelled', done);
    call.on('error', done);
    call.on('data', (msg: AgentMessage__Output) => {
      call.pause();
      this.dispatch(msg, ref, node, session, call)
        .then(() => call.resume())
        .catch((err: unknown) => {
          this.calls.delete(call);
          if (err instanceof ProtocolViolation) {
            log.warn({ reason: err.message }, 'agent broke the stream protocol');
            call.emit('error', { code: grpc.status.FAILED_PRECONDITION, details: err.message });
            return;
          }
          log.error({ err }, 'agent message failed; closing the stream so the agent reconnects');
          call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'control plane could not process the message; reconnect' });
        });
    });
    call.resume();
  }

  private async dispatch(msg: AgentMessage__Output, ref: NodeRef, node: Node, session: SessionState, call: AgentCall): Promise<void> {
    if (msg.hello) {
      await this.onHello(msg.hello, ref, node, session, call);
      session.greeted = true;
      return;
    }
    if (!session.greeted) throw new ProtocolViolation(`first message must be hello, got ${msg.body ?? 'nothing'}`);
    if (msg.heartbeat) await this.onHeartbeat(msg.heartbeat, ref, session);
    else if (msg.commandUpdate) await this.onCommandUpdate(msg.commandUpdate, ref, session);
  }

  private async onHello(hello: Hello__Output, ref: NodeRef, node: Node, session: SessionState, call: AgentCall): Promise<void> {
    const now = new Date();
    const reported: ReportedNodeState = {};
    if (hello.facts) reported.facts = { ...hello.facts };
    // Postgres, not Redis, decides on Hello: Redis may still say ONLINE from before (a re-enrolled
    // node, a lost write), and Hello is once per connection.
    await this.renewLease(ref, now, { seq: 0, appliedRevision: hello.appliedRevision, health: '[]' }, { hello: true }, node.status !== NodeStatus.ONLINE);
    this.diffReportedState(session, { appliedRevision: hello.appliedRevision, agentVersion: hello.agentVersion, artifacts: hello.appliedArtifacts }, reported);
    await this.writer.recordReportedState(ref, reported, now);

    const cluster = await new TenantScopedRepository<Cluster>(this.dataSource.manager, Cluster).findById(ref.tenantId, node.clusterId);
    call.write({ settings: { heartbeatIntervalMs: this.settings.heartbeatIntervalMs } });
    call.write({ desired: { revision: cluster?.currentRevision ?? 0 } });
    // Level-triggered: whatever the agent missed while away is re-sent from Postgres.
    await this.commands.reconcileNode(ref.tenantId, ref.nodeId);
  }

  private async onCommandUpdate(update: CommandUpdate__Output, ref: NodeRef, session: SessionState): Promise<void> {
    const recorded = await this.commands.recordUpdate(ref.tenantId, ref.nodeId, update);
    // Only a command that just moved to SUCCEEDED changed the node's applied state.
    if (recorded.outcome === 'applied' && recorded.status === 'SUCCEEDED') {
      // The commands side records the applied revision itself; re-read it so the next heartbeat
      // is compared with what Postgres now says (a later rollback must still be written).
      const row = await new TenantScopedRepository<Node>(this.dataSource.manager, Node).findById(ref.tenantId, ref.nodeId);
      if (row) {
        session.appliedRevision = row.appliedRevision;
        session.artifactsKey = artifactsKey(row.appliedArtifacts ?? {});
      }
    }
  }

  private async onHeartbeat(hb: Heartbeat__Output, ref: NodeRef, session: SessionState): Promise<void> {
    const now = new Date();
    const skewMs = hb.sentAtMs ? now.getTime() - hb.sentAtMs : 0;
    if (!session.skewReported && Math.abs(skewMs) > CLOCK_SKEW_WARN_MS) {
      session.skewReported = true;
      this.logger.warn({ ...ref, skewMs }, 'node clock differs from the control plane by more than 10 s (check NTP on the node)');
    }
    await this.renewLease(ref, now, { seq: hb.seq, appliedRevision: hb.appliedRevision, health: JSON.stringify(hb.components) }, { seq: hb.seq });
    const reported: ReportedNodeState = {};
    this.diffReportedState(session, { appliedRevision: hb.appliedRevision, artifacts: hb.appliedArtifacts }, reported);
    const hk = healthKey(hb.components);
    if (hk !== session.healthKey) {
      reported.health = healthSnapshot(hb.components, now);
      session.healthKey = hk;
    }
    if (Object.keys(reported).length > 0) await this.writer.recordReportedState(ref, reported, now);
  }

  private async renewLease(ref: NodeRef, now: Date, record: { seq: number; appliedRevision: number; health: string }, detail: Record<string, unknown>, writeOnline = false): Promise<void> {
    const claimedFrom = await this.presence.touch(ref, now.getTime(), record);
    if (claimedFrom === undefined && !writeOnline) return;
    const from = await this.writer.transition(ref, NodeStatus.ONLINE, now, detail);
    if (from) this.logger.info({ ...ref, from, to: NodeStatus.ONLINE }, 'node is online');
  }

  /** Adds to `out` what differs from what Postgres has, and remembers it as written. */
  private diffReportedState(session: SessionState, report: { appliedRevision: number; agentVersion?: string; artifacts: ArtifactDigest__Output[] }, out: ReportedNodeState): void {
    if (report.appliedRevision !== session.appliedRevision) {
      out.appliedRevision = session.appliedRevision = report.appliedRevision;
    }
    if (report.agentVersion && report.agentVersion !== session.agentVersion) {
      out.agentVersion = session.agentVersion = report.agentVersion;
    }
    if (report.artifacts.length > 0) {
      const artifacts = artifactMap(report.artifacts);
      const key = artifactsKey(artifacts);
      if (key !== session.artifactsKey) {
        out.appliedArtifacts = artifacts;
        session.artifactsKey = key;
      }
    }
  }
}
