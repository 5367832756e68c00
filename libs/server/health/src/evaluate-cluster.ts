import { CHANGED_ON_DISK, type PacemakerHealthDetail } from '@triad/protocol';
import { specVips, type ClusterSpec } from '@triad/spec';
import {
  configured,
  corosyncDetail,
  galeraDetail,
  haproxyDetail,
  pacemakerDetail,
  rabbitmqDetail,
  type ComponentReport,
} from './component-report';
import { findingKey, rollUp, type ClusterHealthState, type FindingCode, type FindingComponent, type FindingDraft, type FindingOwner, type FindingSeverity } from './finding';

/** Pacemaker's INFINITY: the default migration-threshold (a resource is never banned for failing). */
export const PACEMAKER_INFINITY = 1_000_000;
export const DEFAULT_PACEMAKER_GRACE_MS = 60_000;

/** Findings of a node out of the cluster: Pacemaker's grace for other problems restarts when one resolves. */
export const MEMBERSHIP_FINDINGS = ['CLUSTER_STACK_DOWN', 'QUORUM_LOST', 'PACEMAKER_NODE_OFFLINE', 'NODE_UNREACHABLE'] as const satisfies readonly FindingCode[];

export interface NodeHealthInput {
  id: string;
  name: string;
  status: 'PENDING' | 'ONLINE' | 'SUSPECT' | 'UNREACHABLE' | 'DECOMMISSIONED';
  statusChangedAt: Date;
  lastHeartbeatAt: Date | null;
  appliedRevision: number;
  /** `{ [artifact]: sha256 }` the agent reports as applied. */
  appliedArtifacts: Record<string, string>;
  /** The newest heartbeat's components (Redis first, then nodes.health). */
  components: readonly ComponentReport[];
}

export interface ClusterHealthInput {
  /** The spec of the cluster's current revision; undefined when there is none. */
  spec: ClusterSpec | undefined;
  revision: number;
  /** `{ [nodeName]: { [artifact]: sha256 } }` of the current revision, when known. */
  expectedArtifacts?: Record<string, Record<string, string>>;
  nodes: readonly NodeHealthInput[];
  /** The cluster's open findings by key: first_seen_at for the Pacemaker grace; node and severity to hold a SUSPECT node's. */
  openFindings?: ReadonlyMap<string, OpenFindingRef>;
  pacemakerGraceMs?: number;
  /**
   * When a node last came back into the cluster (the newest resolution of a MEMBERSHIP_FINDINGS
   * finding). Pacemaker cannot repair anything while its members are missing — the galera agent
   * waits for every member's position — so its grace for a problem starts no earlier than that.
   */
  membershipSettledAt?: Date;
  /** The resources' migration-threshold (Pacemaker's default: INFINITY). */
  migrationThreshold?: number;
}

export interface OpenFindingRef {
  firstSeenAt: Date;
  nodeName: string | null;
  severity: FindingSeverity;
}

export interface ClusterEvaluation {
  health: ClusterHealthState;
  findings: FindingDraft[];
  /**
   * Keys of open findings about a SUSPECT node that stay open as they are: its heartbeat is late,
   * not known to be gone, so nothing is concluded from it either way (no resolve and re-open, which
   * would also restart the Pacemaker grace). They count in the rollup.
   */
  held: string[];
}

const NOT_REMEDIATED = 'not remediated: Triad cannot hear from the node; it may be our network';

/** HAProxy server states that are not failures: drained by an operator, or not checked (as the agent's probe). */
const SERVER_NOT_FAILED = /^(UP|no check|MAINT|DRAIN|NOLB)/;

/** Components with rules of their own; anything else a node reports not OK is a generic finding. */
const RULED_COMPONENTS = new Set(['pacemaker', 'corosync', 'haproxy', 'galera', 'rabbitmq']);

const IPADDR2 = 'ocf:heartbeat:IPaddr2';
const GALERA_AGENT = 'ocf:heartbeat:galera';
const RABBITMQ_AGENT = 'ocf:heartbeat:rabbitmq-cluster';

interface ReachableNode extends NodeHealthInput {
  pacemaker?: PacemakerHealthDetail;
  /** The cluster stack runs here (corosync and pacemakerd answer), as far as the node reports it. */
  stackDown: string[];
  /** Whether this node's partition is quorate; undefined when it reports neither corosync nor pacemaker. */
  quorate?: boolean;
}

/**
 * Pure: the cluster's health and findings from its desired spec, its node rows and each node's
 * newest heartbeat (docs/health.md has every rule). Only what a node reports as configured is
 * expected of it; components of a node Triad cannot hear from (SUSPECT, UNREACHABLE) are stale
 * and produce only the node finding.
 */
export function evaluateCluster(input: ClusterHealthInput, now: Date): ClusterEvaluation {
  const nodes = input.nodes.filter((n) => n.status !== 'DECOMMISSIONED');
  if (!input.spec || input.revision <= 0 || !nodes.some((n) => n.status !== 'PENDING')) return { health: 'UNKNOWN', findings: [], held: [] };
  const ctx = new Evaluation(input, nodes, now);
  ctx.run();
  const findings = [...ctx.findings.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const suspect = new Set(nodes.filter((n) => n.status === 'SUSPECT').map((n) => n.name));
  const held = [...(input.openFindings ?? [])].filter(([key, f]) => f.nodeName !== null && suspect.has(f.nodeName) && !ctx.findings.has(key)).map(([key]) => key);
  const heldSeverities = held.map((key) => ({ severity: input.openFindings?.get(key)?.severity ?? 'WARNING' }));
  return { health: rollUp([...findings, ...heldSeverities]), findings, held: held.sort() };
}

class Evaluation {
  readonly findings = new Map<string, FindingDraft>();
  private readonly spec: ClusterSpec;
  private readonly reachable: ReachableNode[];
  private readonly byName: Map<string, NodeHealthInput>;
  /** The cluster as Pacemaker sees it: the DC's report when it is reachable and quorate, else any quorate node's. */
  private readonly view?: ReachableNode & { pacemaker: PacemakerHealthDetail };
  private readonly graceMs: number;
  private readonly migrationThreshold: number;

  constructor(
    private readonly input: ClusterHealthInput,
    private readonly nodes: readonly NodeHealthInput[],
    private readonly now: Date,
  ) {
    this.spec = input.spec as ClusterSpec;
    this.graceMs = input.pacemakerGraceMs ?? DEFAULT_PACEMAKER_GRACE_MS;
    this.migrationThreshold = input.migrationThreshold ?? PACEMAKER_INFINITY;
    this.byName = new Map(nodes.map((n) => [n.name, n]));
    this.reachable = nodes.filter((n) => n.status === 'ONLINE').map((n) => reachableNode(n));
    const quorateViews = this.reachable.filter((n): n is ReachableNode & { pacemaker: PacemakerHealthDetail } => n.pacemaker !== undefined && n.pacemaker.quorate && n.stackDown.length === 0);
    this.view = quorateViews.find((n) => n.pacemaker.dc === n.name) ?? quorateViews[0];
  }

  run(): void {
    this.liveness();
    this.clusterStack();
    if (this.view) {
      this.pacemakerNodes(this.view.pacemaker);
      this.resources(this.view.pacemaker);
    }
    this.selfViews();
    this.vips();
    this.galera();
    this.rabbitmq();
    this.haproxy();
    this.drift();
    this.fallbacks();
  }

  private add(f: Omit<FindingDraft, 'key' | 'nodeId'> & { nodeId?: string | null }): void {
    const key = findingKey(f.code, f.nodeName, f.subject);
    if (this.findings.has(key)) return;
    const nodeId = f.nodeId ?? (f.nodeName ? (this.byName.get(f.nodeName)?.id ?? null) : null);
    this.findings.set(key, { ...f, key, nodeId });
  }

  /** Owner and action of a problem Pacemaker repairs while it can, for at most the grace after the finding opened. */
  private pacemakerOwned(code: FindingCode, nodeName: string | null, subject: string | null, canAct: boolean, what: string): { owner: FindingOwner; action: string } {
    if (!canAct) return { owner: 'TRIAD', action: `Pacemaker cannot act on ${what} (see message): Triad remediates it` };
    const firstSeen = this.input.openFindings?.get(findingKey(code, nodeName, subject))?.firstSeenAt ?? this.now;
    const since = Math.max(firstSeen.getTime(), this.input.membershipSettledAt?.getTime() ?? 0);
    const left = this.graceMs - (this.now.getTime() - since);
    if (left > 0) return { owner: 'PACEMAKER', action: `waiting for Pacemaker to recover ${what} (${Math.ceil(left / 1000)} s left)` };
    return { owner: 'TRIAD', action: `Pacemaker did not recover ${what} within ${Math.round(this.graceMs / 1000)} s: Triad remediates it` };
  }

  // --- nodes -------------------------------------------------------------------------------

  private liveness(): void {
    const silent = this.nodes.filter((n) => n.status === 'SUSPECT' || n.status === 'UNREACHABLE');
    const heard = this.nodes.filter((n) => n.status !== 'PENDING');
    const everyNodeSilent = silent.length > 0 && silent.length === heard.length;
    for (const n of silent) {
      const since = (n.lastHeartbeatAt ?? n.statusChangedAt).toISOString();
      const code: FindingCode = n.status === 'SUSPECT' ? 'NODE_SUSPECT' : 'NODE_UNREACHABLE';
      const { text, seenOnlineBy } = this.peerView(n.name);
      const where = n.status === 'SUSPECT' ? 'missed heartbeats' : 'is UNREACHABLE';
      this.add({
        code,
        severity: everyNodeSilent && n.status === 'UNREACHABLE' ? 'CRITICAL' : 'WARNING',
        component: 'node',
        nodeId: n.id,
        nodeName: n.name,
        subject: null,
        message: `${n.name} ${where}: Triad cannot hear from it (last heartbeat ${since})${text}.`,
        owner: 'NONE',
        action: NOT_REMEDIATED,
        detail: { status: n.status, lastHeartbeatAt: n.lastHeartbeatAt?.toISOString() ?? null, statusChangedAt: n.statusChangedAt.toISOString(), pacemakerSeesOnline: seenOnlineBy },
      });
    }
  }

  /** What reachable peers' Pacemaker says about a node Triad cannot hear from: UNREACHABLE is not dead. */
  private peerView(name: string): { text: string; seenOnlineBy: string[] } {
    const online: string[] = [];
    const offline: string[] = [];
    for (const peer of this.reachable) {
      const entry = peer.pacemaker?.nodes.find((x) => x.name === name);
      if (!entry) continue;
      (entry.online && !entry.unclean ? online : offline).push(peer.name);
    }
    if (online.length) return { text: `; Pacemaker on ${online.join(', ')} still sees it online — our network?`, seenOnlineBy: online };
    if (offline.length) return { text: `; Pacemaker on ${offline.join(', ')} sees it offline too`, seenOnlineBy: [] };
    return { text: '', seenOnlineBy: [] };
  }

  // --- corosync / pacemaker ------------------------------------------------------------------

  private clusterStack(): void {
    for (const n of this.reachable) {
      if (n.stackDown.length === 0) continue;
      this.add({
        code: 'CLUSTER_STACK_DOWN',
        severity: 'WARNING',
        component: n.stackDown.includes('corosync') ? 'corosync' : 'pacemaker',
        nodeName: n.name,
        subject: null,
        message: `${n.stackDown.join(' and ')} not running on ${n.name}, which Triad can reach: it is out of the cluster.`,
        owner: 'TRIAD',
        action: `restart the cluster stack (corosync, pacemakerd) on ${n.name} and wait for it to rejoin`,
        detail: { down: n.stackDown },
      });
    }
    const reporters = this.reachable.filter((n) => n.quorate !== undefined);
    if (reporters.length === 0) return;
    const quorate = reporters.filter((n) => n.quorate);
    if (quorate.length === 0) {
      this.add({
        code: 'QUORUM_LOST',
        severity: 'CRITICAL',
        component: 'corosync',
        nodeName: null,
        subject: null,
        message: `No reachable node has quorum (${reporters.map((n) => n.name).join(', ')}): Pacemaker stops or freezes resources.`,
        owner: 'TRIAD',
        action: 'restart the cluster stack where it is down; quorum returns with a majority of nodes',
        detail: { reporters: reporters.map((n) => n.name) },
      });
      return;
    }
    for (const n of reporters) {
      if (n.quorate || n.stackDown.length > 0) continue;
      this.add({
        code: 'QUORUM_LOST',
        severity: 'WARNING',
        component: 'corosync',
        nodeName: n.name,
        subject: null,
        message: `${n.name}'s partition has no quorum while ${quorate.map((q) => q.name).join(', ')} ha${quorate.length === 1 ? 's' : 've'} it: the cluster network between them is split.`,
        owner: 'OPERATOR',
        action: 'none by Triad: check the network between the controllers',
        detail: { quorateNodes: quorate.map((q) => q.name) },
      });
    }
  }

  private pacemakerNodes(view: PacemakerHealthDetail): void {
    const viewer = this.view?.name ?? view.node;
    if (view.maintenanceMode && !this.spec.pacemaker.maintenance.cluster) {
      this.add({
        code: 'MAINTENANCE_LEFT_ON',
        severity: 'WARNING',
        component: 'pacemaker',
        nodeName: null,
        subject: 'maintenance-mode',
        message: 'Pacemaker cluster property maintenance-mode is on (the spec says off): no resource is managed.',
        owner: 'TRIAD',
        action: 'turn maintenance-mode off again',
        detail: {},
      });
    }
    const specMaintenance = new Set(this.spec.pacemaker.maintenance.nodes);
    for (const pn of view.nodes) {
      const triadNode = this.byName.get(pn.name);
      for (const [flag, on] of [['standby', pn.standby], ['maintenance', pn.maintenance && !specMaintenance.has(pn.name)]] as const) {
        if (!on) continue;
        this.add({
          code: 'MAINTENANCE_LEFT_ON',
          severity: 'WARNING',
          component: 'pacemaker',
          nodeName: pn.name,
          subject: flag,
          message: `${pn.name} is in ${flag} in Pacemaker (seen by ${viewer}): its resources do not run there.`,
          owner: 'TRIAD',
          action: `take ${pn.name} out of ${flag}`,
          detail: {},
        });
      }
      if (pn.online && !pn.unclean) continue;
      // A node Triad cannot hear from has its own finding (which says what Pacemaker sees); one
      // whose stack is down too.
      if (!triadNode || triadNode.status !== 'ONLINE' || this.reachable.find((r) => r.name === pn.name)?.stackDown.length) continue;
      this.nodeOffline(
        pn.name,
        { viewer, online: pn.online, unclean: pn.unclean },
        `Pacemaker on ${viewer} sees ${pn.name} ${pn.unclean ? 'unclean' : 'offline'}, although Triad hears from it: it is not in the cluster's partition.`,
        `restart the cluster stack on ${pn.name} so that it rejoins`,
      );
    }
  }

  /** PACEMAKER_NODE_OFFLINE: a node Triad hears from that a Pacemaker view does not count as an online member. */
  private nodeOffline(nodeName: string, seen: { viewer: string; online: boolean; unclean: boolean }, message: string, action: string): void {
    this.add({ code: 'PACEMAKER_NODE_OFFLINE', severity: 'WARNING', component: 'pacemaker', nodeName, subject: null, message, owner: 'TRIAD', action, detail: seen });
  }

  /**
   * A node whose stack runs but whose own Pacemaker does not (yet) count it as an online member:
   * just started and still joining, or stuck. Without a quorate view (every other stack down) this
   * is the only sign that a restarted node is not in the cluster yet.
   */
  private selfViews(): void {
    for (const n of this.reachable) {
      if (!n.pacemaker || n.stackDown.length > 0) continue;
      const self = n.pacemaker.nodes.find((x) => x.name === n.name);
      if (self?.online && !self.unclean) continue;
      this.nodeOffline(
        n.name,
        { viewer: n.name, online: self?.online ?? false, unclean: self?.unclean ?? false },
        `Pacemaker on ${n.name} runs but ${self ? `sees ${n.name} ${self.unclean ? 'unclean' : 'offline'}` : `does not list ${n.name} as a node`}: it is not (yet) a member of the cluster.`,
        `restart the cluster stack on ${n.name} so that it rejoins (while it is still joining, this clears by itself)`,
      );
    }
  }

  private resources(view: PacemakerHealthDetail): void {
    const viewer = this.view?.name ?? view.node;
    const eligible = view.nodes.filter((n) => n.online && !n.unclean && !n.standby && !n.maintenance).map((n) => n.name);
    const byId = new Map<string, PacemakerHealthDetail['resources']>();
    for (const r of view.resources) byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
    const failCounts = new Map(view.failedActions.map((f) => [`${f.resource}@${f.node}`, f.failCount ?? 0]));

    // Failed actions and failed instances, per resource and node.
    const failed = new Map<string, { resource: string; node: string; failCount: number; operations: string[] }>();
    for (const f of view.failedActions) {
      const k = `${f.resource}@${f.node}`;
      const e = failed.get(k) ?? { resource: f.resource, node: f.node, failCount: 0, operations: [] };
      e.failCount = Math.max(e.failCount, f.failCount ?? 0);
      e.operations.push(`${f.operation} ${f.exitStatus}${f.exitReason ? ` (${f.exitReason})` : ''}`);
      failed.set(k, e);
    }
    for (const r of view.resources) {
      if (!r.failed) continue;
      for (const node of r.nodes.length ? r.nodes : ['']) {
        const k = `${r.id}@${node}`;
        if (!failed.has(k)) failed.set(k, { resource: r.id, node, failCount: failCounts.get(k) ?? 0, operations: [] });
      }
    }
    for (const f of failed.values()) {
      const blocked = (byId.get(f.resource) ?? []).some((r) => r.blocked);
      const atLimit = f.failCount >= this.migrationThreshold;
      const nodeName = f.node || null;
      const why = blocked ? 'it is blocked' : atLimit ? 'at the migration-threshold: Pacemaker gave up there' : '';
      const own = this.pacemakerOwned('RESOURCE_FAILED', nodeName, f.resource, !blocked && !atLimit, f.resource);
      this.add({
        code: 'RESOURCE_FAILED',
        severity: 'WARNING',
        component: 'pacemaker',
        nodeName,
        subject: f.resource,
        message: `${f.resource} failed${f.node ? ` on ${f.node}` : ''}${f.operations.length ? `: ${f.operations.join(', ')}` : ''}; fail count ${f.failCount}${why ? ` (${why})` : ''}.`,
        ...own,
        detail: { resource: f.resource, failCount: f.failCount, node: f.node || null, operations: f.operations },
      });
    }

    for (const [id, instances] of byId) {
      const blocked = instances.some((r) => r.blocked);
      const unmanaged = !view.maintenanceMode && instances.some((r) => !r.managed);
      if (blocked || unmanaged) {
        this.add({
          code: 'RESOURCE_BLOCKED',
          severity: 'WARNING',
          component: 'pacemaker',
          nodeName: null,
          subject: id,
          message: `${id} is ${blocked ? 'blocked' : 'unmanaged'} in Pacemaker (seen by ${viewer}): Pacemaker will not start, stop or recover it.`,
          owner: 'TRIAD',
          action: blocked ? `clean up ${id} so that Pacemaker manages it again` : `give ${id} back to Pacemaker (managed)`,
          detail: { resource: id, blocked, unmanaged },
        });
        continue;
      }
      if (view.maintenanceMode || view.stopAllResources) continue;
      // VIPs: VIP_NOT_HELD says it (from what every node holds).
      if (instances.every((r) => r.agent === IPADDR2)) continue;
      const isClone = instances.length > 1 || instances.some((r) => r.parent !== undefined && /clone/i.test(r.parent));
      const runningOn = new Set(instances.filter((r) => r.active).flatMap((r) => r.nodes));
      const missing = isClone ? eligible.filter((n) => !runningOn.has(n)) : runningOn.size === 0 ? [''] : [];
      for (const node of missing) {
        // A node whose stack is down has that finding; its instances come back with it.
        if (node && this.reachable.find((r) => r.name === node)?.stackDown.length) continue;
        const nodeName = node || null;
        const own = this.pacemakerOwned('RESOURCE_STOPPED', nodeName, id, true, id);
        this.add({
          code: 'RESOURCE_STOPPED',
          severity: 'WARNING',
          component: 'pacemaker',
          nodeName,
          subject: id,
          message: node ? `${id} is not running on ${node} (seen by ${viewer}).` : `${id} is not running anywhere (seen by ${viewer}).`,
          ...own,
          detail: { resource: id, runningOn: [...runningOn].sort() },
        });
      }
    }
  }

  // --- VIPs ----------------------------------------------------------------------------------

  private vips(): void {
    const reporters = this.reachable.filter((n) => n.pacemaker !== undefined);
    if (reporters.length === 0) return;
    for (const vip of specVips(this.spec)) {
      const heldBy = reporters.filter((n) => n.pacemaker?.heldVips.includes(vip.id)).map((n) => n.name);
      if (heldBy.length === 1) continue;
      if (heldBy.length === 0) {
        // Running on a node Triad cannot hear from but Pacemaker sees online: not ours to judge.
        const elsewhere = this.view?.pacemaker.resources.find((r) => r.id === vip.id && r.active)?.nodes.filter((n) => this.byName.get(n)?.status !== 'ONLINE') ?? [];
        if (elsewhere.length) continue;
        const own = this.pacemakerOwned('VIP_NOT_HELD', null, vip.id, this.view !== undefined, vip.id);
        this.add({
          code: 'VIP_NOT_HELD',
          severity: 'CRITICAL',
          component: 'vip',
          nodeName: null,
          subject: vip.id,
          message: `${vip.id} (${vip.address}, ${vip.frontends.join(', ')}) is held by no node: its services do not answer.`,
          ...own,
          detail: { address: vip.address, frontends: vip.frontends, heldBy },
        });
        continue;
      }
      const own = this.pacemakerOwned('VIP_HELD_TWICE', null, vip.id, this.view !== undefined, vip.id);
      this.add({
        code: 'VIP_HELD_TWICE',
        severity: 'CRITICAL',
        component: 'vip',
        nodeName: null,
        subject: vip.id,
        message: `${vip.id} (${vip.address}) is held by ${heldBy.join(' and ')} at once: clients reach either.`,
        ...own,
        detail: { address: vip.address, heldBy },
      });
    }
  }

  // --- Galera --------------------------------------------------------------------------------

  /** Pacemaker runs a galera resource (the Red Hat layout) rather than the agent. */
  private managedByPacemaker(agent: string): boolean {
    return this.reachable.some((n) => n.pacemaker?.resources.some((r) => r.agent === agent));
  }

  private galera(): void {
    const members = this.reachable.flatMap((n) => {
      const report = configured(n.components, 'galera');
      return report ? [{ node: n, report, detail: galeraDetail(report) }] : [];
    });
    if (members.length === 0) return;
    const pacemaker = this.managedByPacemaker(GALERA_AGENT);
    const primary = members.filter((m) => m.detail?.running && m.detail.clusterStatus === 'Primary');
    if (primary.length === 0) {
      const positions = Object.fromEntries(
        this.spec.topology.nodes.map((sn) => {
          const m = members.find((x) => x.node.name === sn.name);
          const d = m?.detail;
          const position = d?.grastate ? { uuid: d.grastate.uuid, seqno: d.grastate.seqno, safeToBootstrap: d.grastate.safeToBootstrap, running: d.running } : 'not reported';
          return [sn.name, position];
        }),
      );
      const own = pacemaker
        ? this.pacemakerOwned('GALERA_NO_PRIMARY', null, null, this.view !== undefined, 'the Galera cluster')
        : { owner: 'TRIAD' as const, action: 'recover Galera: collect every member\'s position, bootstrap the most advanced, join the others' };
      this.add({
        code: 'GALERA_NO_PRIMARY',
        severity: 'CRITICAL',
        component: 'galera',
        nodeName: null,
        subject: null,
        message: `No Galera node is in a Primary component (${members.map((m) => `${m.node.name}: ${m.report.summary}`).join('; ')}): the database is down.`,
        ...own,
        detail: { members: positions },
      });
      return;
    }
    for (const m of members) {
      const d = m.detail;
      if (!d?.running || m.report.state === 'COMPONENT_DOWN') {
        const code: FindingCode = d?.running ? 'GALERA_NOT_SYNCED' : 'GALERA_DOWN';
        const own = pacemaker ? this.pacemakerOwned(code, m.node.name, null, this.view !== undefined, `galera on ${m.node.name}`) : { owner: 'TRIAD' as const, action: `rejoin ${m.node.name} to the Galera cluster (IST when possible)` };
        this.add({ code, severity: 'WARNING', component: 'galera', nodeName: m.node.name, subject: null, message: `Galera on ${m.node.name}: ${m.report.summary}.`, ...own, detail: { ...d } });
        continue;
      }
      if (d.localState !== 4 || d.ready === false) {
        // Donor/joining is Galera at work; past the grace it is stuck.
        const own = this.pacemakerOwned('GALERA_NOT_SYNCED', m.node.name, null, true, `galera on ${m.node.name}`);
        this.add({
          code: 'GALERA_NOT_SYNCED',
          severity: 'WARNING',
          component: 'galera',
          nodeName: m.node.name,
          subject: null,
          message: `Galera on ${m.node.name} is ${d.localStateComment ?? 'not Synced'} (wsrep_local_state ${d.localState ?? '?'}${d.ready === false ? ', wsrep_ready OFF' : ''}).`,
          owner: pacemaker ? own.owner : 'TRIAD',
          action: pacemaker ? own.action : `wait for ${m.node.name} to sync; rejoin it if it does not`,
          detail: { ...d },
        });
      }
    }
    const expected = this.spec.topology.nodes.length;
    const size = Math.max(...primary.map((m) => m.detail?.clusterSize ?? 0));
    if (size < expected) {
      this.add({
        code: 'GALERA_CLUSTER_SIZE',
        severity: 'WARNING',
        component: 'galera',
        nodeName: null,
        subject: null,
        message: `The Galera Primary component has ${size} of ${expected} members.`,
        owner: pacemaker ? 'PACEMAKER' : 'TRIAD',
        action: pacemaker ? 'the galera resource agent rejoins missing members; see the per-node findings' : 'rejoin the missing members one at a time',
        detail: { size, expected, primary: primary.map((m) => m.node.name) },
      });
    }
  }

  // --- RabbitMQ ------------------------------------------------------------------------------

  private rabbitmq(): void {
    const members = this.reachable.flatMap((n) => {
      const report = configured(n.components, 'rabbitmq');
      return report ? [{ node: n, report, detail: rabbitmqDetail(report) }] : [];
    });
    if (members.length === 0) return;
    const pacemaker = this.managedByPacemaker(RABBITMQ_AGENT);
    const owned = (code: FindingCode, nodeName: string | null, subject: string | null, what: string, triadAction: string) =>
      pacemaker ? this.pacemakerOwned(code, nodeName, subject, this.view !== undefined, what) : { owner: 'TRIAD' as const, action: triadAction };
    const running = members.filter((m) => m.report.state !== 'COMPONENT_DOWN' && m.detail?.runningNodes.includes(m.detail.node));
    for (const m of members) {
      if (running.includes(m)) continue;
      this.add({
        code: 'RABBITMQ_DOWN',
        severity: 'WARNING',
        component: 'rabbitmq',
        nodeName: m.node.name,
        subject: null,
        message: `RabbitMQ on ${m.node.name}: ${m.report.summary}.`,
        ...owned('RABBITMQ_DOWN', m.node.name, null, `rabbitmq on ${m.node.name}`, `restart RabbitMQ on ${m.node.name}`),
        detail: { ...m.detail },
      });
    }
    const expected = [...new Set(members.flatMap((m) => m.detail?.expectedNodes ?? []))].sort();
    const runningNodes = new Set(running.flatMap((m) => m.detail?.runningNodes ?? []));
    const missing = expected.filter((n) => !runningNodes.has(n));
    if (expected.length > 0 && missing.length > 0) {
      const majorityDown = expected.length - missing.length < Math.floor(expected.length / 2) + 1;
      this.add({
        code: 'RABBITMQ_NODES_MISSING',
        severity: majorityDown ? 'CRITICAL' : 'WARNING',
        component: 'rabbitmq',
        nodeName: null,
        subject: null,
        message: `RabbitMQ runs on ${expected.length - missing.length} of ${expected.length} nodes; not running: ${missing.join(', ')}${majorityDown ? ' (a majority is down)' : ''}.`,
        ...owned('RABBITMQ_NODES_MISSING', null, null, 'the RabbitMQ cluster', 'restart or rejoin the missing nodes one at a time'),
        detail: { expected, running: [...runningNodes].sort(), missing },
      });
    }
    // A member that cannot see a majority of the others is on the minority side: it rejoins.
    const partitioned = running.filter((m) => (m.detail?.partitions[m.detail.node] ?? []).length > 0);
    const minority = partitioned.filter((m) => (m.detail?.partitions[m.detail.node] ?? []).length >= Math.ceil((expected.length || members.length) / 2));
    for (const m of minority.length ? minority : partitioned.length ? [undefined] : []) {
      const all = Object.fromEntries(partitioned.map((p) => [p.node.name, p.detail?.partitions[p.detail.node] ?? []]));
      this.add({
        code: 'RABBITMQ_PARTITION',
        severity: 'WARNING',
        component: 'rabbitmq',
        nodeName: m?.node.name ?? null,
        subject: null,
        message: m
          ? `RabbitMQ on ${m.node.name} is partitioned from ${(m.detail?.partitions[m.detail.node] ?? []).join(', ')} (minority side).`
          : `RabbitMQ is partitioned with no minority side: ${Object.entries(all).map(([n, seen]) => `${n} cannot see ${seen.join(', ')}`).join('; ')}.`,
        owner: m ? 'TRIAD' : 'OPERATOR',
        action: m ? `rejoin RabbitMQ on ${m.node.name} to the majority` : 'none by Triad: no side has a majority; decide which side to keep',
        detail: { partitions: all },
      });
    }
    for (const m of running) {
      if (!m.detail?.alarms.length) continue;
      this.add({
        code: 'COMPONENT_DEGRADED',
        severity: 'WARNING',
        component: 'rabbitmq',
        nodeName: m.node.name,
        subject: 'alarms',
        message: `RabbitMQ on ${m.node.name} raised resource alarms (publishers are blocked): ${m.detail.alarms.join(', ')}.`,
        owner: 'OPERATOR',
        action: 'none by Triad: free memory or disk on the node',
        detail: { alarms: m.detail.alarms },
      });
    }
  }

  // --- HAProxy -------------------------------------------------------------------------------

  /** Galera runs in this cluster: some node's agent configures it, or Pacemaker runs a galera resource. */
  private galeraDeployed(): boolean {
    return this.reachable.some((n) => configured(n.components, 'galera') !== undefined) || this.managedByPacemaker(GALERA_AGENT);
  }

  private haproxy(): void {
    // HAProxy's galera backend checks clustercheck: without Galera in the layout it is down by design.
    const skip = this.galeraDeployed() ? new Set<string>() : new Set(['galera']);
    for (const n of this.reachable) {
      const detail = haproxyDetail(configured(n.components, 'haproxy'));
      if (!detail) continue;
      for (const b of detail.backends) {
        if (skip.has(b.name)) continue;
        const down = b.servers.filter((s) => !SERVER_NOT_FAILED.test(s.status));
        if (b.status !== 'DOWN' && down.length === 0) continue;
        const servers = (down.length ? down : b.servers).map((s) => `${s.name} ${s.status}${s.checkStatus ? ` (${s.checkStatus})` : ''}`);
        const isGalera = b.name === 'galera';
        this.add({
          code: 'HAPROXY_BACKEND_DOWN',
          severity: 'WARNING',
          component: 'haproxy',
          nodeName: n.name,
          subject: b.name,
          message: `HAProxy on ${n.name}: backend ${b.name} ${b.status === 'DOWN' ? 'is DOWN' : 'has servers down'}: ${servers.join(', ')}.`,
          owner: isGalera ? 'NONE' : 'OPERATOR',
          action: isGalera ? 'repaired with Galera (see the Galera findings); HAProxy takes servers back when clustercheck passes' : `none by Triad: the ${b.name} service behind HAProxy is not answering its health check`,
          detail: { backend: b.name, status: b.status, down: down.map((s) => s.name) },
        });
      }
    }
  }

  // --- configuration -------------------------------------------------------------------------

  private drift(): void {
    for (const n of this.reachable) {
      if (n.appliedRevision !== this.input.revision) {
        this.add({
          code: 'CONFIG_DRIFT',
          severity: 'WARNING',
          component: 'config',
          nodeName: n.name,
          subject: 'revision',
          message: `${n.name} runs revision ${n.appliedRevision}, the cluster's is ${this.input.revision}.`,
          owner: 'TRIAD',
          action: `apply revision ${this.input.revision} to ${n.name} (reconciler / rollout)`,
          detail: { appliedRevision: n.appliedRevision, desiredRevision: this.input.revision },
        });
        continue;
      }
      const expected = this.input.expectedArtifacts?.[n.name];
      if (!expected) continue;
      for (const [artifact, sha] of Object.entries(n.appliedArtifacts)) {
        if (expected[artifact] === undefined || expected[artifact] === sha) continue;
        // The agent reports a live file that is no longer what it wrote as `changed-on-disk:<sha256 | missing>`.
        const onDisk = sha.startsWith(CHANGED_ON_DISK) ? sha.slice(CHANGED_ON_DISK.length) : null;
        this.add({
          code: 'CONFIG_DRIFT',
          severity: 'WARNING',
          component: 'config',
          nodeName: n.name,
          subject: artifact,
          message:
            onDisk === null
              ? `${artifact} on ${n.name} differs from revision ${this.input.revision}'s.`
              : `${artifact} on ${n.name} was ${onDisk === 'missing' ? 'removed' : onDisk.startsWith('unreadable') ? `made ${onDisk}` : 'changed on disk'} since Triad applied revision ${this.input.revision}.`,
          owner: 'TRIAD',
          action: `re-apply revision ${this.input.revision} to ${n.name}`,
          detail: { artifact, applied: sha, expected: expected[artifact], ...(onDisk === null ? {} : { onDisk }) },
        });
      }
    }
  }

  // --- everything else -----------------------------------------------------------------------

  /**
   * A component reported DOWN/DEGRADED/UNKNOWN that no rule above explained. Components with
   * rules of their own only fall back when their probe could not tell (UNKNOWN) or they are DOWN
   * with nothing found for them on that node.
   */
  private fallbacks(): void {
    const explained = new Set([...this.findings.values()].map((f) => `${f.nodeName ?? '*'}/${f.component}`));
    for (const n of this.reachable) {
      for (const c of n.components) {
        const component = findingComponent(c.component);
        if (!['COMPONENT_DOWN', 'COMPONENT_DEGRADED', 'COMPONENT_UNKNOWN'].includes(c.state)) continue;
        if (RULED_COMPONENTS.has(c.component) && c.state === 'COMPONENT_DEGRADED') continue;
        if ((c.component === 'corosync' || c.component === 'pacemaker') && n.stackDown.length > 0) continue;
        if (explained.has(`${n.name}/${component}`) || explained.has(`*/${component}`)) continue;
        const down = c.state === 'COMPONENT_DOWN';
        this.add({
          code: down ? 'COMPONENT_DOWN' : 'COMPONENT_DEGRADED',
          severity: 'WARNING',
          component,
          nodeName: n.name,
          subject: c.component,
          message: `${c.component} on ${n.name} is ${c.state.replace('COMPONENT_', '')}: ${c.summary || 'no detail'}.`,
          owner: 'OPERATOR',
          action: 'none by Triad yet: no playbook for this; look at the node',
          detail: { state: c.state, summary: c.summary },
        });
      }
    }
  }
}

function findingComponent(name: string): FindingComponent {
  for (const c of ['corosync', 'pacemaker', 'galera', 'rabbitmq', 'haproxy'] as const) if (name === c || name.startsWith(`${c}-`)) return c;
  return 'config';
}

function reachableNode(n: NodeHealthInput): ReachableNode {
  const pm = configured(n.components, 'pacemaker');
  const cs = configured(n.components, 'corosync');
  const pacemaker = pacemakerDetail(pm);
  const corosync = corosyncDetail(cs);
  const stackDown: string[] = [];
  // DOWN without a crm_mon / cfgtool answer: the daemon does not run (with an answer, DOWN means offline or no quorum).
  if (cs?.state === 'COMPONENT_DOWN' && !corosync) stackDown.push('corosync');
  if (pm?.state === 'COMPONENT_DOWN' && !pacemaker) stackDown.push('pacemakerd');
  let quorate: boolean | undefined;
  if (pacemaker) quorate = pacemaker.quorate;
  else if (corosync?.quorum) quorate = corosync.quorum.quorate;
  if (stackDown.length) quorate = false;
  return { ...n, pacemaker, stackDown, quorate };
}
