import { rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DriverError, fsyncDir, readFileIfExists, sleep, writeFileAtomic, type ComponentDriver } from '@triad/agent-core';
import { sha256Hex } from '@triad/render';
import type { ComponentHealth } from '@triad/protocol';
import type { Logger } from '@triad/logging';
import { installSecretFile, readSecretFile } from '../secret-file';
import { rabbitmqHealth, type RabbitmqClusterStatusJson } from '../probes/rabbitmq-health';
import { checkRabbitmqConf, checkRabbitmqDefinitions, checkRabbitmqEnvConf, classicConfigNodes, parseRabbitmqConf } from './rabbitmq-files';
import { RabbitmqNode, type RabbitmqNodeOptions } from './rabbitmq-node';

/** One rendered file with the swap every driver shares: `<file>.staged` → live, the old one kept as `<file>.previous`. */
class ManagedFile {
  readonly staged: string;
  readonly previous: string;
  constructor(readonly path: string) {
    this.staged = `${path}.staged`;
    this.previous = `${path}.previous`;
  }

  async stage(content: string): Promise<void> {
    await writeFileAtomic(this.staged, content, 0o644);
  }

  async discardStaged(): Promise<void> {
    await unlink(this.staged).catch(() => undefined);
  }

  /** Installs the staged file; resolves whether the content differs from what was live. */
  async swap(): Promise<boolean> {
    const live = await readFileIfExists(this.path);
    const next = await readFileIfExists(this.staged);
    if (live !== undefined) await writeFileAtomic(this.previous, live, 0o644);
    else await unlink(this.previous).catch(() => undefined);
    await rename(this.staged, this.path);
    await fsyncDir(dirname(this.path));
    return live !== next;
  }

  /** Puts the previous file back (removes the file when there was none); resolves what it did. */
  async restorePrevious(): Promise<string> {
    const previous = await readFileIfExists(this.previous);
    if (previous === undefined) {
      await unlink(this.path).catch(() => undefined);
      return `${this.path} removed (there was no previous one)`;
    }
    await writeFileAtomic(this.path, previous, 0o644);
    return `${this.path} restored`;
  }
}

export interface RabbitmqDriverOptions {
  /**
   * managed: the agent restarts the node when its files change (one node; the control plane
   * serializes). pacemaker: `ocf:heartbeat:rabbitmq-cluster` runs RabbitMQ (the Red Hat layout):
   * the agent only installs the files, which take effect at Pacemaker's next start of the node.
   */
  mode: 'managed' | 'pacemaker';
  node: RabbitmqNodeOptions;
  /** Live rabbitmq.conf, rabbitmq-env.conf and definitions file (the host profile's paths). */
  configFile: string;
  envConfFile: string;
  definitionsFile: string;
  logger: Logger;
  /** How long a (re)started node may take to run its app and see the nodes it saw before. */
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
  /**
   * Heartbeats reuse a probe younger than this (default 15 s): each probe is a rabbitmqctl run, an
   * Erlang VM start costing ~1.7 s of CPU, too much every 5 s on a small controller. 0 probes every time.
   */
  probeMaxAgeMs?: number;
  /**
   * The Erlang cookie file the agent was given: installed as `$HOME/.erlang.cookie` (the node's
   * `env.HOME`), mode 400, owned like HOME (the rabbitmq user). Without it the cookie is left as is.
   */
  cookieFile?: string;
}

type Action = { kind: 'none' } | { kind: 'import-definitions' } | { kind: 'restart'; reason: string };
type NodeAction = Exclude<Action, { kind: 'none' }>;

/**
 * RabbitMQ 3.10 on one node. Three rendered files, one restart: rabbitmq-env.conf and the
 * definitions are applied by `RabbitmqFileDriver`s listed before this driver (they validate and
 * swap their file and tell this driver it changed); this driver applies rabbitmq.conf and then
 * does what the changed files need: rabbitmq.conf and rabbitmq-env.conf are read only when the
 * Erlang VM boots (cuttlefish translates rabbitmq.conf at boot; `stop_app`/`start_app` would keep
 * the old settings), so they need a full restart of the node; definitions alone are imported into
 * the running node (`rabbitmqctl import_definitions`).
 */
export class RabbitmqDriver implements ComponentDriver {
  readonly component = 'rabbitmq';
  readonly artifact = 'rabbitmq.conf';
  readonly node: RabbitmqNode;
  readonly envConf: RabbitmqFileDriver;
  readonly definitions: RabbitmqFileDriver;
  private readonly file: ManagedFile;
  /** Companion files swapped in the current apply with a different content. */
  private readonly changedCompanions = new Set<RabbitmqFileDriver>();
  private lastReload: { action: NodeAction; runningBefore: string[]; changed: RabbitmqFileDriver[]; confChanged: boolean } | undefined;
  private confChanged = false;
  private readonly startTimeoutMs: number;
  private readonly stopTimeoutMs: number;
  private lastProbe: { at: number; health: Promise<ComponentHealth> } | undefined;

  constructor(private readonly opts: RabbitmqDriverOptions) {
    this.node = new RabbitmqNode(opts.node);
    this.file = new ManagedFile(opts.configFile);
    this.envConf = new RabbitmqFileDriver('rabbitmq-env', 'rabbitmq-env.conf', new ManagedFile(opts.envConfFile), checkRabbitmqEnvConf, this);
    this.definitions = new RabbitmqFileDriver('rabbitmq-definitions', 'rabbitmq-definitions.json', new ManagedFile(opts.definitionsFile), checkRabbitmqDefinitions, this);
    this.startTimeoutMs = opts.startTimeoutMs ?? 180_000;
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 120_000;
  }

  /** managed: the agent restarts the node; pacemaker: ocf:heartbeat:rabbitmq-cluster runs it. */
  get mode(): RabbitmqDriverOptions['mode'] {
    return this.opts.mode;
  }

  /** The live rabbitmq.conf. */
  get configFile(): string {
    return this.opts.configFile;
  }

  get liveFile(): string {
    return this.opts.configFile;
  }

  /** In the order the agent must apply them: the companions first, rabbitmq.conf (which restarts) last. */
  drivers(): ComponentDriver[] {
    return [this.envConf, this.definitions, this];
  }

  /** Installs the Erlang cookie. RabbitMQ itself outlives the agent: nothing starts or stops with it. */
  async start(): Promise<void> {
    await this.installCookie();
  }

  /** Writes `$HOME/.erlang.cookie` from the cookie file (rewritten only when it changed). */
  async installCookie(): Promise<void> {
    const home = this.opts.node.env['HOME'];
    if (!this.opts.cookieFile || !home) return;
    const cookie = await readSecretFile(this.opts.cookieFile);
    if (!/^[A-Za-z0-9_]+$/.test(cookie)) throw new Error(`the Erlang cookie in ${this.opts.cookieFile} must be letters, digits and _ only`);
    const path = join(home, '.erlang.cookie');
    if (await installSecretFile(path, cookie, 0o400, home)) this.opts.logger.info({ file: path }, 'installed the Erlang cookie');
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  async version(): Promise<string | undefined> {
    try {
      return (await this.node.ctl(['version'], 15_000)).trim() || undefined;
    } catch {
      return undefined;
    }
  }

  async stage(content: string): Promise<void> {
    await this.file.stage(content);
  }

  async validate(): Promise<void> {
    const staged = (await readFileIfExists(this.file.staged)) ?? '';
    try {
      checkRabbitmqConf(staged);
    } catch (e) {
      throw new DriverError('validate', (e as Error).message);
    }
  }

  /** A rejected rabbitmq.conf also takes back the companion files of this apply: the set stays consistent. */
  async discardStaged(): Promise<void> {
    await this.file.discardStaged();
    for (const c of this.changedCompanions) await c.file.restorePrevious();
    this.changedCompanions.clear();
  }

  async swap(): Promise<void> {
    this.confChanged = await this.file.swap();
  }

  async reload(): Promise<void> {
    const changed = [...this.changedCompanions];
    this.changedCompanions.clear();
    this.lastReload = undefined;
    if (this.opts.mode === 'pacemaker') return;
    const running = (await this.node.pid()) !== undefined;
    const action: Action = !running
      ? { kind: 'restart', reason: 'the node is not running' }
      : this.confChanged || changed.includes(this.envConf)
        ? { kind: 'restart', reason: `${[...(this.confChanged ? ['rabbitmq.conf'] : []), ...(changed.includes(this.envConf) ? ['rabbitmq-env.conf'] : [])].join(' and ')} changed` }
        : changed.includes(this.definitions)
          ? { kind: 'import-definitions' }
          : { kind: 'none' };
    // Unchanged files change nothing on the node: no check (as for Galera).
    if (action.kind === 'none') return;
    const runningBefore = running ? ((await this.status())?.running_nodes ?? []) : [];
    this.lastReload = { action, runningBefore, changed, confChanged: this.confChanged };
    await this.carryOut(action, 'reload');
  }

  async check(): Promise<void> {
    if (!this.lastReload) return;
    await this.waitRunning(this.lastReload.runningBefore, 'check');
  }

  async rollback(): Promise<string> {
    const done = this.lastReload;
    const restored = [await this.file.restorePrevious()];
    for (const c of done?.changed ?? []) restored.push(await c.file.restorePrevious());
    if (!done) return `the previous files were put back (${restored.join('; ')})`;
    await this.carryOut(done.action.kind === 'restart' ? { kind: 'restart', reason: 'rolling back' } : done.action, 'rollback');
    await this.waitRunning(done.runningBefore, 'rollback');
    return `the previous files were put back (${restored.join('; ')}) and the node ${done.action.kind === 'restart' ? 'restarted with them' : 'imported the previous definitions'}`;
  }

  probe(): Promise<ComponentHealth> {
    const fresh = this.lastProbe && Date.now() - this.lastProbe.at < (this.opts.probeMaxAgeMs ?? 15_000);
    if (!fresh || !this.lastProbe) this.lastProbe = { at: Date.now(), health: this.probeNow() };
    return this.lastProbe.health;
  }

  private async probeNow(): Promise<ComponentHealth> {
    const conf = await readFileIfExists(this.opts.configFile);
    if (conf === undefined) return { component: this.component, state: 'COMPONENT_NOT_CONFIGURED', summary: 'no rabbitmq.conf applied yet', detailJson: '' };
    let expectedNodes: string[] = [];
    try {
      expectedNodes = classicConfigNodes(parseRabbitmqConf(conf));
    } catch {
      // A hand-edited file: the probe still reports what the node says.
    }
    try {
      return rabbitmqHealth({ node: this.opts.node.erlangNodeName, expectedNodes, status: await this.node.clusterStatus() });
    } catch (e) {
      return rabbitmqHealth({ node: this.opts.node.erlangNodeName, expectedNodes, error: (e as Error).message });
    }
  }

  // --- operations remediation uses (managed mode, or a Pacemaker resource unmanaged first) ---

  /** Full restart of this node (stop the VM, start it, wait until it runs with the nodes it saw before, and itself). */
  async restartNode(): Promise<void> {
    const runningBefore = (await this.status())?.running_nodes ?? [];
    await this.carryOut({ kind: 'restart', reason: 'requested' }, 'reload');
    await this.waitRunning(runningBefore, 'reload');
  }

  /**
   * Takes this node out of its cluster and joins it to `seedNode`'s: stop_app, reset, join_cluster,
   * start_app. `reset` deletes this node's data (its queue replicas, local messages): only for a
   * node on the losing side of a partition, whose data the majority has anyway. Refused while this
   * node's app runs with a majority of the cluster's nodes.
   */
  async rejoin(seedNode: string): Promise<void> {
    const status = await this.status();
    const expected = classicConfigNodes(parseRabbitmqConf((await readFileIfExists(this.opts.configFile)) ?? ''));
    const running = status?.running_nodes ?? [];
    if (running.includes(this.opts.node.erlangNodeName) && running.length > expected.length / 2) {
      throw new DriverError('reload', `refusing to reset ${this.opts.node.erlangNodeName}: its app runs in a majority (${running.length} of ${expected.length} nodes); reset would throw away data the cluster still serves`);
    }
    this.opts.logger.warn({ seedNode }, 'resetting this RabbitMQ node and joining it to the cluster of the seed');
    this.lastProbe = undefined;
    await this.node.ctl(['stop_app'], this.stopTimeoutMs);
    await this.node.ctl(['reset'], this.stopTimeoutMs);
    await this.node.ctl(['join_cluster', seedNode], this.startTimeoutMs);
    await this.node.ctl(['start_app'], this.startTimeoutMs);
    await this.waitRunning([seedNode], 'reload');
  }

  /** Called by the companion drivers when their swap installed a different file. */
  noteCompanionChanged(companion: RabbitmqFileDriver): void {
    this.changedCompanions.add(companion);
  }

  private async status(): Promise<RabbitmqClusterStatusJson | undefined> {
    return this.node.clusterStatus().catch(() => undefined);
  }

  private async carryOut(action: Action, step: 'reload' | 'rollback'): Promise<void> {
    this.lastProbe = undefined;
    try {
      if (action.kind === 'import-definitions') {
        this.opts.logger.info({ file: this.opts.definitionsFile }, 'importing changed definitions into the running node');
        await this.node.ctl(['import_definitions', this.opts.definitionsFile], this.startTimeoutMs);
      } else if (action.kind === 'restart') {
        this.opts.logger.info({ reason: action.reason }, 'restarting the RabbitMQ node');
        await this.node.stopServer(this.stopTimeoutMs);
        await this.node.startServer(this.startTimeoutMs);
      }
    } catch (e) {
      throw new DriverError(step, (e as Error).message);
    }
  }

  /** Waits until this node's app runs, every node of `before` (and this one) is running, and there is no partition. */
  private async waitRunning(before: string[], step: 'reload' | 'check' | 'rollback'): Promise<void> {
    const self = this.opts.node.erlangNodeName;
    const wanted = [...new Set([...before, self])];
    const deadline = Date.now() + this.startTimeoutMs;
    let last = 'no answer';
    for (;;) {
      const s = await this.status();
      if (s) {
        const running = s.running_nodes ?? [];
        const missing = wanted.filter((n) => !running.includes(n));
        const partitions = Object.entries(s.partitions ?? {}).filter(([, seen]) => seen.length > 0);
        if (missing.length === 0 && partitions.length === 0) return;
        last = `${missing.length ? `not running: ${missing.join(', ')}` : ''}${partitions.length ? ` partitions: ${JSON.stringify(Object.fromEntries(partitions))}` : ''}`;
      }
      if (Date.now() > deadline) throw new DriverError(step, `RabbitMQ node ${self} not back in its cluster within ${this.startTimeoutMs} ms (${last.trim()})`);
      await sleep(500);
    }
  }
}

/**
 * rabbitmq-env.conf or the definitions file: validated and swapped like any artifact; what the
 * change needs (a restart, an import) is done once, by the RabbitmqDriver applied after it.
 */
export class RabbitmqFileDriver implements ComponentDriver {
  constructor(
    readonly component: string,
    readonly artifact: string,
    readonly file: ManagedFile,
    private readonly checkContent: (text: string) => void,
    private readonly owner: RabbitmqDriver,
  ) {}

  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  version(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  get liveFile(): string {
    return this.file.path;
  }

  stage(content: string): Promise<void> {
    return this.file.stage(content);
  }

  async validate(): Promise<void> {
    try {
      this.checkContent((await readFileIfExists(this.file.staged)) ?? '');
    } catch (e) {
      throw new DriverError('validate', (e as Error).message);
    }
  }

  discardStaged(): Promise<void> {
    return this.file.discardStaged();
  }

  async swap(): Promise<void> {
    if (await this.file.swap()) this.owner.noteCompanionChanged(this);
  }

  /** Nothing here: the RabbitmqDriver restarts or imports once for every changed file, and checks the node. */
  reload(): Promise<void> {
    return Promise.resolve();
  }

  check(): Promise<void> {
    return Promise.resolve();
  }

  rollback(): Promise<string> {
    return this.file.restorePrevious();
  }

  /** The file's presence and digest: a file changed on disk behind the agent's back shows up here (drift). */
  async probe(): Promise<ComponentHealth> {
    const text = await readFileIfExists(this.file.path);
    if (text === undefined) return { component: this.component, state: 'COMPONENT_NOT_CONFIGURED', summary: `no ${this.artifact} applied yet`, detailJson: '' };
    return { component: this.component, state: 'COMPONENT_OK', summary: `${this.file.path} installed`, detailJson: JSON.stringify({ path: this.file.path, sha256: sha256Hex(text) }) };
  }
}
