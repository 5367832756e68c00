import { connect } from 'node:net';
import { ActionRefusedError, readFileIfExists, type CommandResult, type NodeActionExecutor } from '@triad/agent-core';
import type { NodeActionArgs, NodeActionName, RunActionParams } from '@triad/protocol';
import type { Logger } from '@triad/logging';
import { formatPosition, type GaleraPosition } from '../galera/grastate';
import type { GaleraDriver } from '../galera/galera.driver';
import { gcommMembers, myCnfServerOptions } from '../galera/my-cnf';
import type { PacemakerDriver } from '../pacemaker/pacemaker.driver';
import { classicConfigNodes, parseRabbitmqConf } from '../rabbitmq/rabbitmq-files';
import type { RabbitmqDriver } from '../rabbitmq/rabbitmq.driver';

/** The cluster stack on this node: what NodeActions needs of `ClusterStack` (contract C); tests may pass their own. */
export interface ClusterStackControl {
  isRunning(): Promise<{ corosync: boolean; pacemaker: boolean }>;
  start(): Promise<void>;
  restart(): Promise<void>;
}

export interface NodeActionsDeps {
  galera?: GaleraDriver;
  rabbitmq?: RabbitmqDriver;
  pacemaker?: PacemakerDriver;
  clusterStack?: ClusterStackControl;
  /** Galera group communication port of members listed without one (Galera's default). */
  galeraPort?: number;
  /** How long a probe of another member's group communication port may take. */
  peerProbeTimeoutMs?: number;
}

type Handler<A extends NodeActionName> = (args: NodeActionArgs<A>, log: Logger) => Promise<CommandResult>;

/**
 * `run_action` on this node, through the drivers' own operations (argument arrays, never a shell).
 * Every action is safe to retry: it looks first and does nothing when the node is already where
 * the action would bring it. It refuses (ActionRefusedError: REFUSED, nothing changed) rather than
 * fight Pacemaker or risk data: Galera start/bootstrap and RabbitMQ restarts are refused while
 * Pacemaker manages that component (the caller unmanages it first), and a bootstrap is refused
 * while any other member's mariadbd answers on its group communication port.
 */
export class NodeActions implements NodeActionExecutor {
  private readonly handlers: { [A in NodeActionName]: Handler<A> };

  constructor(private readonly deps: NodeActionsDeps) {
    this.handlers = {
      'cluster_stack.start': () => this.stackStart(),
      'cluster_stack.restart': (_a, log) => this.stackRestart(log),
      'pacemaker.cleanup': (a) => this.pacemakerCleanup(a.resource),
      'pacemaker.set_managed': (a) => this.pacemakerSetManaged(a.resource, a.managed),
      'pacemaker.set_maintenance': (a) => this.pacemakerSetMaintenance(a.on),
      'galera.report_position': () => this.galeraReportPosition(),
      'galera.bootstrap': (a, log) => this.galeraBootstrap(a.force === true, log),
      'galera.join': (_a, log) => this.galeraJoin(log),
      'rabbitmq.restart': () => this.rabbitmqRestart(),
      'rabbitmq.rejoin': (_a, log) => this.rabbitmqRejoin(log),
    };
  }

  run(params: RunActionParams, logger: Logger): Promise<CommandResult> {
    const handler = this.handlers[params.action] as Handler<NodeActionName>;
    return handler(params.args as NodeActionArgs<NodeActionName>, logger.child({ action: params.action }));
  }

  // --- cluster stack ---

  private stack(): ClusterStackControl {
    if (!this.deps.clusterStack) throw new ActionRefusedError('this agent does not control the cluster stack (no corosync/pacemaker component)');
    return this.deps.clusterStack;
  }

  private async stackStart(): Promise<CommandResult> {
    const stack = this.stack();
    const before = await stack.isRunning();
    if (before.corosync && before.pacemaker) return { message: 'corosync and pacemakerd already run on this node; nothing done', result: { ...before, started: false } };
    // start() resolves only once both answer (it throws ClusterStackError otherwise).
    await stack.start();
    return { message: `started ${[!before.corosync && 'corosync', !before.pacemaker && 'pacemakerd'].filter(Boolean).join(' and ')}`, result: { corosync: true, pacemaker: true, started: true } };
  }

  private async stackRestart(log: Logger): Promise<CommandResult> {
    const stack = this.stack();
    log.warn('restarting the cluster stack on this node');
    await stack.restart(); // resolves only once both answer again
    return { message: 'corosync and pacemakerd restarted', result: { corosync: true, pacemaker: true, started: true } };
  }

  // --- pacemaker ---

  private pacemaker(): PacemakerDriver {
    if (!this.deps.pacemaker) throw new ActionRefusedError('this agent does not manage pacemaker on this node');
    return this.deps.pacemaker;
  }

  private async pacemakerCleanup(resource: string): Promise<CommandResult> {
    const pcmk = this.pacemaker();
    const failuresOf = async () => (await pcmk.status()).failedActions.filter((f) => f.resource.replace(/:\d+$/, '') === resource.replace(/:\d+$/, '')).length;
    const before = await failuresOf();
    const output = await pcmk.cleanup(resource);
    return { message: `cleaned up ${resource}: ${output}`, result: { resource, failedActionsBefore: before, failedActionsAfter: await failuresOf() } };
  }

  private async pacemakerSetManaged(resource: string, managed: boolean): Promise<CommandResult> {
    const output = await this.pacemaker().setManaged(resource, managed);
    return { message: `${resource} is ${managed ? 'managed by Pacemaker again' : 'no longer managed by Pacemaker'} (${output})`, result: { resource, managed } };
  }

  private async pacemakerSetMaintenance(on: boolean): Promise<CommandResult> {
    const output = await this.pacemaker().setMaintenance(on);
    return { message: `cluster maintenance-mode ${on ? 'on' : 'off'} (${output})`, result: { maintenanceMode: on } };
  }

  /**
   * Refuses when Pacemaker runs this component (a managed resource whose agent is `agentPattern`
   * and not in maintenance): starting or stopping it by hand would race Pacemaker. Without the
   * pacemaker component the agent is the one that runs it (managed mode).
   */
  private async refuseIfPacemakerManages(what: string, mode: 'managed' | 'pacemaker', agentPattern: RegExp): Promise<void> {
    if (mode !== 'pacemaker') return;
    if (!this.deps.pacemaker) throw new ActionRefusedError(`${what} runs under Pacemaker here, but this agent cannot read Pacemaker's state to check it is unmanaged`);
    let status;
    try {
      status = await this.deps.pacemaker.status();
    } catch (e) {
      throw new ActionRefusedError(`${what} runs under Pacemaker here and its state cannot be read (${(e as Error).message}); start the cluster stack or unmanage the resource first`);
    }
    const managed = status.resources.filter((r) => agentPattern.test(r.agent) && r.managed && !status.maintenanceMode);
    if (managed.length) {
      const ids = [...new Set(managed.map((r) => r.parent ?? r.id))];
      throw new ActionRefusedError(`Pacemaker manages ${what} (${ids.join(', ')}): unmanage it first (pacemaker.set_managed) so that Triad does not race Pacemaker`, { managedResources: ids });
    }
  }

  // --- galera ---

  private galera(): GaleraDriver {
    if (!this.deps.galera) throw new ActionRefusedError('this agent does not manage galera on this node');
    return this.deps.galera;
  }

  /** Where this node stands: running (from wsrep status) or stopped (grastate.dat, and --wsrep-recover when it says seqno -1). */
  private async galeraReportPosition(): Promise<CommandResult> {
    const galera = this.galera();
    const grastate = await galera.readGrastate().catch(() => undefined);
    if ((await galera.server.pid()) !== undefined) {
      const s = await galera.server.wsrepStatus();
      const position = { uuid: s?.wsrep_local_state_uuid ?? grastate?.uuid ?? '', seqno: Number(s?.wsrep_last_committed ?? -1) };
      const result = { ...position, safeToBootstrap: grastate?.safeToBootstrap ?? false, running: true, clusterStatus: s?.wsrep_cluster_status ?? 'unknown', localState: s?.wsrep_local_state_comment ?? 'unknown' };
      return { message: `mariadbd runs (${result.localState}, ${result.clusterStatus}) at ${formatPosition(position)}`, result };
    }
    await this.refuseIfGaleraStarting();
    if (!grastate) throw new Error('mariadbd is not running and this node has no grastate.dat: it never joined a cluster');
    let position: GaleraPosition = grastate;
    let source = 'grastate.dat';
    if (grastate.seqno < 0) {
      position = await galera.recoverPosition();
      source = 'mariadbd --wsrep-recover';
    }
    const result = { uuid: position.uuid, seqno: position.seqno, safeToBootstrap: grastate.safeToBootstrap, running: false, source };
    return { message: `mariadbd stopped at ${formatPosition(position)} (from ${source}), safe_to_bootstrap ${grastate.safeToBootstrap ? 1 : 0}`, result };
  }

  private async galeraBootstrap(force: boolean, log: Logger): Promise<CommandResult> {
    const galera = this.galera();
    if ((await galera.server.pid()) !== undefined) {
      const s = await galera.server.wsrepStatus();
      if (s?.wsrep_cluster_status === 'Primary') return { message: 'mariadbd already runs in a Primary component here; nothing done', result: { bootstrapped: false, running: true, clusterSize: Number(s.wsrep_cluster_size) } };
      throw new ActionRefusedError(`mariadbd already runs here (${s?.wsrep_cluster_status ?? 'not answering'}): stop it before bootstrapping from this node`);
    }
    await this.refuseIfPacemakerManages('galera', galera.mode, /galera/);
    await this.refuseIfGaleraStarting();
    const peers = await this.galeraPeersListening();
    if (peers.length) {
      throw new ActionRefusedError(`another member's mariadbd answers on its Galera port (${peers.join(', ')}): a component may be running; join it instead of bootstrapping a second cluster`, { peersRunning: peers });
    }
    const grastate = await galera.readGrastate();
    if (!grastate.safeToBootstrap && !force) {
      throw new ActionRefusedError('grastate.dat says safe_to_bootstrap: 0 (this node may not have the latest writes); bootstrapping needs force, after an operator approved it', { safeToBootstrap: false, seqno: grastate.seqno });
    }
    const startPosition = grastate.seqno < 0 ? await galera.recoverPosition() : undefined;
    log.warn({ force, startPosition }, 'bootstrapping a new Galera cluster from this node');
    await galera.bootstrap({ startPosition, markSafeToBootstrap: !grastate.safeToBootstrap && force });
    const s = await galera.server.wsrepStatus();
    return {
      message: `bootstrapped a new Primary component from this node${force && !grastate.safeToBootstrap ? ' (forced: safe_to_bootstrap was 0)' : ''}`,
      result: { bootstrapped: true, forced: force && !grastate.safeToBootstrap, uuid: s?.wsrep_local_state_uuid ?? grastate.uuid, seqno: Number(s?.wsrep_last_committed ?? startPosition?.seqno ?? grastate.seqno) },
    };
  }

  private async galeraJoin(log: Logger): Promise<CommandResult> {
    const galera = this.galera();
    if ((await galera.server.pid()) !== undefined) {
      const s = await galera.server.wsrepStatus();
      if (s?.wsrep_cluster_status === 'Primary' && s.wsrep_local_state_comment === 'Synced') {
        return { message: `mariadbd already runs Synced in a Primary component of ${s.wsrep_cluster_size}; nothing done`, result: { joined: false, clusterSize: Number(s.wsrep_cluster_size) } };
      }
      throw new ActionRefusedError(`mariadbd already runs here but is not Synced in a Primary component (${s?.wsrep_local_state_comment ?? 'not answering'}, ${s?.wsrep_cluster_status ?? '?'}); not restarting it`);
    }
    await this.refuseIfPacemakerManages('galera', galera.mode, /galera/);
    await this.refuseIfGaleraStarting();
    const grastate = await galera.readGrastate().catch(() => undefined);
    const startPosition = grastate && grastate.seqno < 0 ? await galera.recoverPosition() : undefined;
    log.info({ startPosition }, 'starting mariadbd to join the running cluster');
    await galera.join({ startPosition });
    const s = await galera.server.wsrepStatus();
    return { message: `joined: Synced in a Primary component of ${s?.wsrep_cluster_size ?? '?'}`, result: { joined: true, clusterSize: Number(s?.wsrep_cluster_size ?? 0), seqno: Number(s?.wsrep_last_committed ?? -1) } };
  }

  /** Other members (wsrep_cluster_address minus wsrep_node_address) whose group communication port accepts a connection. */
  /** This node's and its peers' Galera (gcomm) endpoints, from galera.cnf. */
  private async galeraEndpoints(): Promise<{ own: { host: string; port: number } | undefined; peers: { host: string; port: number }[] }> {
    const o = myCnfServerOptions((await readFileIfExists(this.galera().configFile)) ?? '');
    const own = (o.get('wsrep_node_address') ?? '').replace(/^\[|\]$/g, '').replace(/:\d+$/, '');
    const members = (gcommMembers(o.get('wsrep_cluster_address')) ?? [])
      .map((m) => m.trim())
      .filter(Boolean)
      .map((m) => {
        const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(m);
        const [host, port] = v6 ? [v6[1], v6[2]] : [m.replace(/:\d+$/, ''), /:(\d+)$/.exec(m)?.[1]];
        return { host: host ?? '', port: Number(port ?? this.deps.galeraPort ?? 4567) };
      });
    return { own: own ? (members.find((p) => p.host === own) ?? { host: own, port: this.deps.galeraPort ?? 4567 }) : undefined, peers: members.filter((p) => p.host !== own) };
  }

  private async galeraPeersListening(): Promise<string[]> {
    const { peers } = await this.galeraEndpoints();
    const open = await Promise.all(peers.map(async (p) => ((await portOpen(p.host, p.port, this.deps.peerProbeTimeoutMs ?? 1_500)) ? `${p.host}:${p.port}` : undefined)));
    return open.filter((p): p is string => p !== undefined);
  }

  /**
   * A mariadbd without a pid file yet (a joiner a resource agent started, still waiting for its
   * donor) already listens on this node's Galera port: reading or rewriting the datadir under it
   * (--wsrep-recover, a bootstrap) would race it.
   */
  private async refuseIfGaleraStarting(): Promise<void> {
    const { own } = await this.galeraEndpoints();
    if (own && (await portOpen(own.host, own.port, this.deps.peerProbeTimeoutMs ?? 1_500))) {
      throw new ActionRefusedError(`a mariadbd listens on this node's Galera port ${own.host}:${own.port} but no pid file names it (a start or join in progress): not touching its datadir`, { listening: `${own.host}:${own.port}` });
    }
  }

  // --- rabbitmq ---

  private rabbitmq(): RabbitmqDriver {
    if (!this.deps.rabbitmq) throw new ActionRefusedError('this agent does not manage rabbitmq on this node');
    return this.deps.rabbitmq;
  }

  private async rabbitmqRestart(): Promise<CommandResult> {
    const rabbitmq = this.rabbitmq();
    await this.refuseIfPacemakerManages('rabbitmq', rabbitmq.mode, /rabbitmq/);
    await rabbitmq.restartNode();
    const running = (await rabbitmq.node.clusterStatus().catch(() => undefined))?.running_nodes ?? [];
    return { message: `RabbitMQ node restarted; running nodes: ${running.join(', ')}`, result: { runningNodes: running } };
  }

  /** Resets this node and joins it to the first other configured node that takes it (the driver refuses while this node runs in a majority). */
  private async rabbitmqRejoin(log: Logger): Promise<CommandResult> {
    const rabbitmq = this.rabbitmq();
    await this.refuseIfPacemakerManages('rabbitmq', rabbitmq.mode, /rabbitmq/);
    const self = rabbitmq.node.opts.erlangNodeName;
    const before = (await rabbitmq.node.clusterStatus().catch(() => undefined))?.running_nodes ?? [];
    const expected = classicConfigNodes(parseRabbitmqConf((await readFileIfExists(rabbitmq.configFile)) ?? ''));
    if (before.includes(self) && expected.every((n) => before.includes(n))) {
      return { message: `${self} already runs with every configured node; nothing done`, result: { rejoined: false, runningNodes: before } };
    }
    if (before.includes(self) && before.length > expected.length / 2) {
      throw new ActionRefusedError(`${self} runs in a majority (${before.length} of ${expected.length} nodes): resetting it would throw away data the cluster still serves`, { runningNodes: before });
    }
    const seeds = expected.filter((n) => n !== self);
    if (!seeds.length) throw new ActionRefusedError('rabbitmq.conf lists no other node to join');
    const errors: string[] = [];
    for (const seed of seeds) {
      try {
        await rabbitmq.rejoin(seed);
        const running = (await rabbitmq.node.clusterStatus().catch(() => undefined))?.running_nodes ?? [];
        return { message: `${self} reset and joined the cluster through ${seed}`, result: { rejoined: true, seed, runningNodes: running } };
      } catch (e) {
        log.warn({ seed, err: (e as Error).message }, 'could not join through this seed; trying the next');
        errors.push(`${seed}: ${(e as Error).message}`);
      }
    }
    throw new Error(`could not rejoin through any configured node: ${errors.join('; ')}`);
  }
}

function portOpen(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
