import type { ChildProcess } from 'node:child_process';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DriverError, fsyncDir, readFileIfExists, runFile, sleep, writeFileAtomic, type ComponentDriver } from '@triad/agent-core';
import type { ComponentHealth } from '@triad/protocol';
import type { Logger } from '@triad/logging';
import { ClustercheckServer } from '../clustercheck/clustercheck.server';
import { installSecretFile, readSecretFile } from '../secret-file';
import { galeraHealth, WSREP_SYNCED } from '../probes/galera-health';
import { formatPosition, parseGrastate, parseRecoveredPosition, withSafeToBootstrap, type GaleraPosition, type Grastate } from './grastate';
import { MariadbServer } from './mariadb-server';
import { galeraChangePlan, gcommMemberCount, myCnfServerOptions, type GaleraChangePlan } from './my-cnf';

export interface GaleraDriverOptions {
  /**
   * managed: the agent restarts mariadbd itself when a new galera.cnf needs it (one node; the
   * control plane serializes nodes). pacemaker: `ocf:heartbeat:galera` runs mariadbd (the Red Hat
   * layout): the agent only installs the file, which takes effect at Pacemaker's next start.
   */
  mode: 'managed' | 'pacemaker';
  /** The live galera.cnf (`--defaults-file` of mariadbd); `.staged` and `.previous` sit beside it. */
  configFile: string;
  mariadbdBin?: string;
  mariadbBin?: string;
  user?: string;
  clientDefaultsFile?: string;
  consoleLogFile?: string;
  logger: Logger;
  /** How long a (re)started node may take to be Synced (an SST of a big database takes long). */
  syncTimeoutMs?: number;
  /** How long a graceful stop may take. */
  stopTimeoutMs?: number;
  /** The clustercheck endpoint haproxy checks, served while the agent runs (none when unset). */
  clustercheck?: { host: string; port: number; availableWhenDonor?: boolean };
  /**
   * mariabackup SST credentials: the password file the agent was given becomes `authFile` (the
   * host profile's sstAuthFile, `!include`d by galera.cnf) as `wsrep_sst_auth`, mode 600.
   */
  sstAuth?: { user: string; passwordFile: string; authFile: string };
}

export interface StartOptions {
  /** `--wsrep-start-position=uuid:seqno`, from recoverPosition(). */
  startPosition?: GaleraPosition;
}

/**
 * Galera (MariaDB 10.11) on one node. The apply life: `<cnf>.staged` → `mariadbd --help --verbose`
 * parses it (and the wsrep settings must be there) → live (old one kept as `.previous`) → a change
 * the running server can take with SET GLOBAL is set, any other change restarts this node
 * (SIGTERM, wait for a clean shutdown, start, wait for Synced) → Synced + Primary at the size the
 * cluster had before → otherwise the previous file comes back the same way.
 */
export class GaleraDriver implements ComponentDriver {
  readonly component = 'galera';
  readonly artifact = 'galera.cnf';
  readonly server: MariadbServer;
  private readonly staged: string;
  private readonly previous: string;
  private readonly syncTimeoutMs: number;
  private readonly stopTimeoutMs: number;
  /** What the last reload did and the cluster size before it: the check and the rollback follow it. */
  private lastReload: { plan: GaleraChangePlan; sizeBefore?: number } | undefined;
  readonly clustercheck: ClustercheckServer | undefined;

  constructor(private readonly opts: GaleraDriverOptions) {
    this.staged = `${opts.configFile}.staged`;
    this.previous = `${opts.configFile}.previous`;
    this.syncTimeoutMs = opts.syncTimeoutMs ?? 300_000;
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 120_000;
    this.server = new MariadbServer({
      configFile: opts.configFile,
      mariadbdBin: opts.mariadbdBin ?? '/usr/sbin/mariadbd',
      mariadbBin: opts.mariadbBin ?? '/usr/bin/mariadb',
      user: opts.user ?? 'mysql',
      clientDefaultsFile: opts.clientDefaultsFile,
      consoleLogFile: opts.consoleLogFile,
    });
    this.clustercheck = opts.clustercheck && new ClustercheckServer({ ...opts.clustercheck, localState: () => this.localState(), logger: opts.logger });
  }

  /** managed: the agent starts mariadbd; pacemaker: ocf:heartbeat:galera does. */
  get mode(): GaleraDriverOptions['mode'] {
    return this.opts.mode;
  }

  /** The live galera.cnf. */
  get configFile(): string {
    return this.opts.configFile;
  }

  get liveFile(): string {
    return this.opts.configFile;
  }

  /** Serves clustercheck. mariadbd is not started here: the database outlives the agent, and a stopped node starts through bootstrap()/join(). */
  async start(): Promise<void> {
    await this.installSstAuth();
    await this.clustercheck?.start();
  }

  /** Writes the SST credentials include file from the password file (rewritten only when it changed). */
  async installSstAuth(): Promise<void> {
    const auth = this.opts.sstAuth;
    if (!auth) return;
    const password = await readSecretFile(auth.passwordFile);
    // Double-quoted: MariaDB strips the quotes and reads \\ and \" inside, so any password survives.
    const value = `${auth.user}:${password}`.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    if (await installSecretFile(auth.authFile, `[galera]\nwsrep_sst_auth = "${value}"\n`, 0o600)) {
      this.opts.logger.info({ file: auth.authFile }, 'installed the SST credentials');
    }
  }

  /** Stops serving clustercheck (haproxy then takes this node out); mariadbd keeps running. */
  async stop(): Promise<void> {
    await this.clustercheck?.stop();
  }

  async version(): Promise<string | undefined> {
    try {
      const r = await runFile(this.opts.mariadbdBin ?? '/usr/sbin/mariadbd', ['--version'], 5_000);
      return /Ver (\S+)/.exec(r.stdout)?.[1];
    } catch {
      return undefined;
    }
  }

  async stage(content: string): Promise<void> {
    await writeFileAtomic(this.staged, content, 0o644);
  }

  async validate(): Promise<void> {
    const r = await runFile(this.opts.mariadbdBin ?? '/usr/sbin/mariadbd', [`--defaults-file=${this.staged}`, '--help', '--verbose'], 30_000);
    if (r.code !== 0) {
      const errors = r.stderr.split('\n').filter((l) => /\[ERROR\]/.test(l)).map((l) => l.replace(/^.*\[ERROR\]\s*/, ''));
      throw new DriverError('validate', `mariadbd rejected the configuration: ${(errors.length ? errors : [r.stderr.trim()]).join('; ')}`);
    }
    const effective = (name: string) => new RegExp(`^${name}\\s+(.*)$`, 'm').exec(r.stdout)?.[1]?.trim() ?? '';
    const missing: string[] = [];
    if (effective('wsrep-on') !== 'TRUE') missing.push('wsrep_on is not ON');
    if (!effective('wsrep-provider').startsWith('/')) missing.push('wsrep_provider is not a library path');
    if (!effective('wsrep-cluster-address').startsWith('gcomm://')) missing.push('wsrep_cluster_address is not a gcomm:// address');
    if (missing.length) throw new DriverError('validate', `the configuration is not a Galera node: ${missing.join('; ')}`);
  }

  async discardStaged(): Promise<void> {
    await unlink(this.staged).catch(() => undefined);
  }

  async swap(): Promise<void> {
    const live = await readFileIfExists(this.opts.configFile);
    if (live !== undefined) await writeFileAtomic(this.previous, live, 0o644);
    else await unlink(this.previous).catch(() => undefined);
    await rename(this.staged, this.opts.configFile);
    await fsyncDir(dirname(this.opts.configFile));
  }

  async reload(): Promise<void> {
    const live = (await readFileIfExists(this.opts.configFile)) ?? '';
    const previous = await readFileIfExists(this.previous);
    this.lastReload = undefined;
    if (this.opts.mode === 'pacemaker' || (await this.server.pid()) === undefined) {
      // Not ours to restart, or not running: a stopped node starts through bootstrap()/join()
      // (deciding which is the cluster's business, not this file's).
      return;
    }
    const plan: GaleraChangePlan = previous === undefined ? { kind: 'restart', reason: 'first configuration applied by Triad' } : galeraChangePlan(previous, live);
    // An unchanged file changes nothing on the node: no check (a donor busy with an SST is not this apply's failure).
    if (plan.kind === 'none') return;
    this.lastReload = { plan, sizeBefore: Number((await this.server.wsrepStatus())?.wsrep_cluster_size) || undefined };
    await this.carryOut(plan);
  }

  async check(content: string): Promise<void> {
    if (!this.lastReload) return;
    const expected = this.lastReload.sizeBefore ?? gcommMemberCount(myCnfServerOptions(content).get('wsrep_cluster_address'));
    await this.waitSynced(expected, this.syncTimeoutMs, 'check');
  }

  async rollback(): Promise<string> {
    const previous = await readFileIfExists(this.previous);
    const applied = (await readFileIfExists(this.opts.configFile)) ?? '';
    if (previous === undefined) {
      await unlink(this.opts.configFile).catch(() => undefined);
      return 'there was no previous galera.cnf: the new one was removed';
    }
    await writeFileAtomic(this.opts.configFile, previous, 0o644);
    const done = this.lastReload;
    if (!done) return 'the previous galera.cnf was restored';
    const back = done.plan.kind === 'set-global' ? galeraChangePlan(applied, previous) : done.plan;
    if ((await this.server.pid()) === undefined && back.kind !== 'restart') {
      return 'the previous galera.cnf was restored; mariadbd is not running';
    }
    await this.carryOut(back.kind === 'restart' ? { kind: 'restart', reason: 'rolling back' } : back);
    await this.waitSynced(done.sizeBefore, this.syncTimeoutMs, 'rollback');
    return `the previous galera.cnf was restored and ${back.kind === 'restart' ? 'mariadbd restarted with it' : 'its settings set again'}`;
  }

  async probe(): Promise<ComponentHealth> {
    const live = await readFileIfExists(this.opts.configFile);
    if (live === undefined) return { component: this.component, state: 'COMPONENT_NOT_CONFIGURED', summary: 'no galera.cnf applied yet', detailJson: '' };
    const [status, grastate] = await Promise.all([this.server.wsrepStatus(), this.readGrastate().catch(() => undefined)]);
    return galeraHealth({ status, grastate, expectedClusterSize: gcommMemberCount(myCnfServerOptions(live).get('wsrep_cluster_address')) });
  }

  /** wsrep_local_state (4 Synced, 2 Donor/Desynced…), undefined when mariadbd does not answer: what clustercheck serves. */
  async localState(): Promise<number | undefined> {
    try {
      const value = (await this.server.query("SHOW GLOBAL STATUS LIKE 'wsrep_local_state'", 3_000))[0]?.[1];
      return value === undefined ? undefined : Number(value);
    } catch {
      return undefined;
    }
  }

  // --- operations remediation uses (managed mode, or a Pacemaker resource unmanaged first) ---

  /** Restarts this node gracefully with the live file and waits until it is Synced again. */
  async restart(): Promise<void> {
    await this.carryOut({ kind: 'restart', reason: 'requested' });
    await this.waitSynced(undefined, this.syncTimeoutMs, 'reload');
  }

  /** grastate.dat of this node: uuid, seqno (-1 after a crash) and safe_to_bootstrap. */
  async readGrastate(): Promise<Grastate> {
    const file = join(this.server.layout().datadir, 'grastate.dat');
    const text = await readFileIfExists(file);
    if (text === undefined) throw new Error(`no ${file}: this node never joined a cluster`);
    return parseGrastate(text);
  }

  /**
   * The last committed position in InnoDB, from `mariadbd --wsrep-recover` (mariadbd must be
   * stopped): what a full-outage election compares when grastate.dat says seqno -1.
   */
  async recoverPosition(): Promise<GaleraPosition> {
    if ((await this.server.pid()) !== undefined) throw new Error('mariadbd is running: --wsrep-recover needs it stopped');
    const { datadir } = this.server.layout();
    // In the datadir because mariadbd writes it as its own user.
    const log = join(datadir, `wsrep-recover.${process.pid}.log`);
    try {
      const r = await runFile(this.opts.mariadbdBin ?? '/usr/sbin/mariadbd', [`--defaults-file=${this.opts.configFile}`, `--user=${this.opts.user ?? 'mysql'}`, '--wsrep-recover', `--log-error=${log}`], 120_000);
      const text = (await readFileIfExists(log)) ?? '';
      const position = parseRecoveredPosition(text);
      if (!position) {
        const errors = text.split('\n').filter((l) => /ERROR/.test(l)).slice(-5).join('; ');
        throw new Error(`mariadbd --wsrep-recover (exit ${r.code}) logged no recovered position${errors ? `: ${errors}` : ''}`);
      }
      return position;
    } finally {
      await unlink(log).catch(() => undefined);
    }
  }

  /**
   * Starts a new cluster from this node (`--wsrep-new-cluster`). mariadbd refuses unless
   * grastate.dat says safe_to_bootstrap: 1; `markSafeToBootstrap` sets it, and only the caller
   * that elected this node (highest seqno, every member heard, or an operator's approval) may ask.
   */
  async bootstrap(opts: StartOptions & { markSafeToBootstrap?: boolean } = {}): Promise<void> {
    if ((await this.server.pid()) !== undefined) throw new Error('mariadbd is already running');
    if (opts.markSafeToBootstrap) {
      const file = join(this.server.layout().datadir, 'grastate.dat');
      const text = await readFileIfExists(file);
      if (text === undefined) throw new Error(`no ${file} to mark safe_to_bootstrap`);
      // writeFile keeps the file's owner (mysql) and mode.
      await writeFile(file, withSafeToBootstrap(text));
      this.opts.logger.warn({ file }, 'marked this node safe_to_bootstrap');
    }
    this.opts.logger.warn({ startPosition: opts.startPosition && formatPosition(opts.startPosition) }, 'bootstrapping a new Galera cluster from this node');
    await this.startAndWait(['--wsrep-new-cluster', ...positionArgs(opts.startPosition)], 1);
  }

  /** Starts mariadbd to join the running cluster (IST from a donor when the gap is in its gcache, SST otherwise). */
  async join(opts: StartOptions = {}): Promise<void> {
    if ((await this.server.pid()) !== undefined) throw new Error('mariadbd is already running');
    await this.startAndWait(positionArgs(opts.startPosition), undefined);
  }

  /** Stops this node's mariadbd gracefully (SIGTERM, wait); resolves false when it was not running. */
  async stopServer(opts: { killAfterMs?: number } = {}): Promise<boolean> {
    return this.server.stop(this.stopTimeoutMs, opts.killAfterMs);
  }

  private async carryOut(plan: GaleraChangePlan): Promise<void> {
    if (plan.kind === 'none') return;
    if (plan.kind === 'set-global') {
      const assignments = Object.entries(plan.variables).map(([k, v]) => `${k} = ${v}`);
      this.opts.logger.info({ variables: plan.variables }, 'galera.cnf change taken without a restart');
      try {
        // Names come from a fixed list and values are digits only (galeraChangePlan): no SQL injection.
        await this.server.query(`SET GLOBAL ${assignments.join(', ')}`);
      } catch (e) {
        throw new DriverError('reload', `mariadbd refused SET GLOBAL ${assignments.join(', ')}: ${(e as Error).message}`);
      }
      return;
    }
    const size = Number((await this.server.wsrepStatus())?.wsrep_cluster_size);
    if (size === 1) {
      // Started without --wsrep-new-cluster it would look for a primary component that no longer exists.
      throw new DriverError('reload', 'this node is the only member of its Galera cluster: restarting it would end the cluster (join the other members first)');
    }
    this.opts.logger.info({ reason: plan.reason }, 'restarting mariadbd');
    try {
      await this.server.stop(this.stopTimeoutMs);
    } catch (e) {
      throw new DriverError('reload', (e as Error).message);
    }
    await this.startAndWait([], undefined);
  }

  private async startAndWait(args: string[], minimumSize: number | undefined): Promise<void> {
    const child = this.server.start(args);
    await this.waitSynced(minimumSize, this.syncTimeoutMs, 'reload', child);
  }

  /**
   * Waits for Synced + Primary + wsrep_ready, and a cluster of at least `size` members
   * (undefined: any), failing fast when a mariadbd the agent just started exits.
   */
  private async waitSynced(size: number | undefined, timeoutMs: number, step: 'reload' | 'check' | 'rollback', child?: ChildProcess): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer';
    for (;;) {
      if (child && child.exitCode !== null) {
        throw new DriverError(step, `mariadbd exited with code ${child.exitCode} while starting: ${this.server.errorLogTail() || 'see its error log'}`);
      }
      const s = await this.server.wsrepStatus();
      if (s) {
        const synced = Number(s.wsrep_local_state) === WSREP_SYNCED && s.wsrep_cluster_status === 'Primary' && s.wsrep_ready === 'ON';
        if (synced && (size === undefined || Number(s.wsrep_cluster_size) >= size)) return;
        last = `${s.wsrep_local_state_comment}, ${s.wsrep_cluster_status}, cluster size ${s.wsrep_cluster_size}${size ? ` of ${size}` : ''}`;
      }
      if (Date.now() > deadline) throw new DriverError(step, `mariadbd not Synced in a Primary cluster within ${timeoutMs} ms (last: ${last})`);
      await sleep(250);
    }
  }
}

function positionArgs(p: GaleraPosition | undefined): string[] {
  return p ? [`--wsrep-start-position=${formatPosition(p)}`] : [];
}
