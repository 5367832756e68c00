import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { DriverError, fsyncDir, fullJitterBackoffMs, readFileIfExists, runFile, sleep, writeFileAtomic, type ComponentDriver } from '@triad/agent-core';
import type { ComponentHealth } from '@triad/protocol';
import type { Logger } from '@triad/logging';
import { dirname } from 'node:path';
import { configFrontends, haproxyCli, parseShowProc, parseShowStat, type HaproxyProcesses } from './haproxy-cli';
import { haproxyHealth } from './haproxy-health';

export interface HaproxyDriverOptions {
  /** managed: the agent runs haproxy as its master-worker child; external: someone else does. */
  mode: 'managed' | 'external';
  bin: string;
  configFile: string;
  masterSocket: string;
  statsSocket: string;
  logger: Logger;
  /** How long a reload may take to produce a new worker with every frontend open. */
  checkTimeoutMs?: number;
}

const OUTPUT_LINES_KEPT = 40;
/** External mode: how long nobody may listen on the master socket before haproxy counts as not running (a re-exec is shorter). */
const NO_LISTENER_GRACE_MS = 2_000;

/**
 * HAProxy in master-worker mode. Applies haproxy.cfg as `<cfg>.staged` → `haproxy -c` → live
 * (old one kept as `<cfg>.previous`) → `reload` on the master CLI → the new worker is up and every
 * frontend of the new config is OPEN in its `show stat` → otherwise the previous file comes back.
 */
export class HaproxyDriver implements ComponentDriver {
  readonly component = 'haproxy';
  readonly artifact = 'haproxy.cfg';

  get liveFile(): string {
    return this.opts.configFile;
  }

  private child: ChildProcess | undefined;
  private childExited: Promise<void> = Promise.resolve();
  /** Set between stop() and start(): no restarts. */
  private stopped = true;
  /** Children whose exit is not a crash: the agent stopped them, or they failed to start (the apply reports that). */
  private readonly expectedExits = new WeakSet<ChildProcess>();
  private spawning: Promise<void> | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private crashes = 0;
  /** A master left running by a previous agent process (it crashed): watched by pid, not as a child. */
  private adopted: { pid: number; watch: NodeJS.Timeout } | undefined;
  /** Recent output of the managed haproxy: its ALERT lines explain a failed start or reload. */
  private output: string[] = [];
  private readonly staged: string;
  private readonly previous: string;
  private readonly checkTimeoutMs: number;
  /** The worker the last successful reload produced: the one checks talk to. */
  private currentWorker: number | undefined;
  /** External mode: haproxy was not running, so there was nothing to reload or check. */
  private awaitingExternalStart = false;

  constructor(private readonly opts: HaproxyDriverOptions) {
    this.staged = `${opts.configFile}.staged`;
    this.previous = `${opts.configFile}.previous`;
    this.checkTimeoutMs = opts.checkTimeoutMs ?? 10_000;
  }

  async version(): Promise<string | undefined> {
    try {
      const r = await runFile(this.opts.bin, ['-v'], 5_000);
      return /version (\S+)/i.exec(r.stdout)?.[1];
    } catch {
      return undefined;
    }
  }

  /** Managed mode: runs haproxy if there is a configuration to run. */
  async start(): Promise<void> {
    this.stopped = false;
    if (this.opts.mode !== 'managed' || this.running()) return;
    // haproxy outlives a crashed agent (it keeps serving); the restarted agent takes it over.
    const leftOver = (await this.processes().catch(() => undefined))?.master;
    if (leftOver) {
      this.adopt(leftOver.pid);
      return;
    }
    if ((await readFileIfExists(this.opts.configFile)) === undefined) {
      this.opts.logger.info({ config: this.opts.configFile }, 'no haproxy configuration yet; haproxy starts with the first applied revision');
      return;
    }
    await this.spawnMaster();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    await this.spawning?.catch(() => undefined);
    await this.halt();
  }

  /** Stops the managed haproxy (SIGTERM, SIGKILL after 5 s) and reaps it. */
  private async halt(): Promise<void> {
    const adopted = this.adopted;
    if (adopted) {
      clearInterval(adopted.watch);
      this.adopted = undefined;
      const signal = (sig: NodeJS.Signals): void => {
        try {
          process.kill(adopted.pid, sig);
        } catch {
          // already gone
        }
      };
      signal('SIGTERM');
      const deadline = Date.now() + 5_000;
      while (processAlive(adopted.pid)) {
        if (Date.now() > deadline) signal('SIGKILL');
        await sleep(50);
      }
      return;
    }
    const child = this.child;
    if (!child || !this.running()) return;
    this.expectedExits.add(child);
    child.kill('SIGTERM');
    const killTimer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await this.childExited;
    clearTimeout(killTimer);
  }

  async stage(content: string): Promise<void> {
    await writeFileAtomic(this.staged, content, 0o640);
  }

  async validate(): Promise<void> {
    const r = await runFile(this.opts.bin, ['-c', '-f', this.staged]);
    if (r.code !== 0) {
      throw new DriverError('validate', `haproxy rejected the configuration: ${condense(`${r.stdout}\n${r.stderr}`)}`);
    }
  }

  async discardStaged(): Promise<void> {
    await unlink(this.staged).catch(() => undefined);
  }

  async swap(): Promise<void> {
    const live = await readFileIfExists(this.opts.configFile);
    if (live !== undefined) await writeFileAtomic(this.previous, live, 0o640);
    await rename(this.staged, this.opts.configFile);
    await fsyncDir(dirname(this.opts.configFile));
  }

  async reload(): Promise<void> {
    await this.spawning?.catch(() => undefined);
    if (this.opts.mode === 'managed' && !this.running()) {
      await this.spawnMaster();
      return;
    }
    this.awaitingExternalStart = false;
    const deadline = Date.now() + this.checkTimeoutMs;
    const noListenerSince = Date.now();
    let before: HaproxyProcesses;
    for (;;) {
      try {
        before = await this.processes();
        this.output = [];
        await haproxyCli(this.opts.masterSocket, 'reload');
        break;
      } catch (e) {
        if (this.opts.mode === 'external' && isNoListener(e) && Date.now() > noListenerSince + NO_LISTENER_GRACE_MS) {
          // Nothing listens on the master socket (longer than a re-exec takes): haproxy does not run.
          // Bring-up: whoever runs it (Pacemaker's clone) has not started it yet and starts it with
          // this file. Nothing to reload or check; the heartbeat reports haproxy DOWN meanwhile.
          this.awaitingExternalStart = true;
          this.opts.logger.info({ socket: this.opts.masterSocket }, 'haproxy does not run yet (external); it starts with the new configuration');
          return;
        }
        // The master does not answer while it re-executes itself after a previous reload.
        if (Date.now() > deadline) {
          throw new DriverError('reload', `the haproxy master socket ${this.opts.masterSocket} does not answer (is haproxy running in master-worker mode with -S?): ${(e as Error).message}`);
        }
        await sleep(100);
      }
    }
    for (;;) {
      const now = await this.processes().catch(() => undefined); // the master re-executes itself meanwhile
      if (now?.master && before.master) {
        if (now.master.failedReloads > before.master.failedReloads) {
          throw new DriverError('reload', `haproxy could not load the new configuration${this.alerts()}`);
        }
        const fresh = now.workers.find((w) => w.reloads === 0 && !before.workers.some((o) => o.pid === w.pid));
        if (now.master.reloads > before.master.reloads && fresh) {
          this.currentWorker = fresh.pid;
          return;
        }
      }
      if (Date.now() > deadline) throw new DriverError('reload', `no new haproxy worker within ${this.checkTimeoutMs} ms after reload${this.alerts()}`);
      await sleep(100);
    }
  }

  async check(content: string): Promise<void> {
    if (this.awaitingExternalStart) return;
    const expected = configFrontends(content);
    const deadline = Date.now() + this.checkTimeoutMs;
    let problem = 'no answer from the new worker';
    for (;;) {
      try {
        const rows = parseShowStat(await this.workerCommand('show stat'));
        const missing = expected.filter((f) => !rows.some((r) => r.proxy === f && r.name === 'FRONTEND' && r.status === 'OPEN'));
        if (missing.length === 0) return;
        problem = `frontends not open: ${missing.join(', ')}`;
      } catch (e) {
        problem = (e as Error).message;
      }
      if (Date.now() > deadline) throw new DriverError('check', `haproxy health check failed: ${problem}`);
      await sleep(100);
    }
  }

  async rollback(): Promise<string> {
    const previous = await readFileIfExists(this.previous);
    if (previous === undefined) {
      // First configuration on this node: there is nothing to go back to, so nothing runs.
      await unlink(this.opts.configFile).catch(() => undefined);
      if (this.opts.mode === 'external') throw new DriverError('rollback', 'there is no previous haproxy configuration to restore');
      await this.halt();
      return 'there was no previous configuration: the new one was removed and haproxy is not running';
    }
    await writeFileAtomic(this.opts.configFile, previous, 0o640);
    await this.reload();
    await this.check(previous);
    return 'the previous configuration was restored';
  }

  async probe(): Promise<ComponentHealth> {
    const health = (state: ComponentHealth['state'], summary: string): ComponentHealth => ({ component: this.component, state, summary, detailJson: '' });
    if ((await readFileIfExists(this.opts.configFile)) === undefined) return health('COMPONENT_NOT_CONFIGURED', 'no haproxy configuration applied yet');
    if (this.opts.mode === 'managed' && !this.running()) return health('COMPONENT_DOWN', 'haproxy is not running');
    try {
      return haproxyHealth(parseShowStat(await haproxyCli(this.opts.statsSocket, 'show stat', 3_000)));
    } catch (e) {
      return health('COMPONENT_DOWN', `haproxy stats socket ${this.opts.statsSocket} does not answer: ${(e as Error).message}`);
    }
  }

  private running(): boolean {
    if (this.adopted) return processAlive(this.adopted.pid);
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  private adopt(pid: number): void {
    this.opts.logger.warn({ pid }, 'took over the haproxy a previous agent process left running');
    const watch = setInterval(() => {
      if (processAlive(pid)) return;
      clearInterval(watch);
      this.adopted = undefined;
      this.opts.logger.error({ pid }, 'managed haproxy exited unexpectedly');
      this.scheduleRestart();
    }, 1_000);
    watch.unref();
    this.adopted = { pid, watch };
  }

  private processes(): Promise<HaproxyProcesses> {
    return haproxyCli(this.opts.masterSocket, 'show proc').then(parseShowProc);
  }

  /** A command to the current worker through the master CLI (`@!<pid>`): never an old worker. */
  private async workerCommand(command: string): Promise<string> {
    if (this.currentWorker === undefined) {
      const procs = await this.processes();
      this.currentWorker = procs.workers.find((w) => w.reloads === 0)?.pid;
      if (this.currentWorker === undefined) throw new Error('haproxy has no current worker');
    }
    return haproxyCli(this.opts.masterSocket, `@!${this.currentWorker} ${command}`);
  }

  /** One spawn at a time: an apply and a crash restart must not start two masters. */
  private spawnMaster(): Promise<void> {
    this.spawning ??= this.spawnMasterOnce().finally(() => (this.spawning = undefined));
    return this.spawning;
  }

  /** A managed haproxy that died on its own is started again, with backoff, while a configuration exists. */
  private scheduleRestart(): void {
    if (this.stopped || this.restartTimer) return;
    const delay = fullJitterBackoffMs(this.crashes++, 500, 30_000);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.restartAfterCrash();
    }, delay);
  }

  private async restartAfterCrash(): Promise<void> {
    if (this.stopped || this.running() || (await readFileIfExists(this.opts.configFile)) === undefined) return;
    try {
      await this.spawnMaster();
      this.opts.logger.warn({ crashes: this.crashes }, 'managed haproxy restarted after it exited');
    } catch (e) {
      this.opts.logger.error({ err: (e as Error).message }, 'managed haproxy could not be restarted; retrying');
      this.scheduleRestart();
    }
  }

  /** Starts `haproxy -W -db -S <master>,mode,600 -f <cfg>` and waits for its first worker. */
  private async spawnMasterOnce(): Promise<void> {
    this.output = [];
    this.currentWorker = undefined;
    const args = ['-W', '-db', '-S', `${this.opts.masterSocket},mode,600`];
    args.push('-f', this.opts.configFile);
    const child = spawn(this.opts.bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.childExited = new Promise((resolve) => child.once('exit', () => resolve()));
    const keep = (b: Buffer): void => {
      for (const line of b.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        this.output.push(line);
        if (this.output.length > OUTPUT_LINES_KEPT) this.output.shift();
        this.opts.logger.debug({ component: 'haproxy', line }, 'haproxy output');
      }
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const startedAt = Date.now();
    // A child that dies before its first worker is up is a failed start, reported to the caller.
    let starting = true;
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (starting || this.expectedExits.has(child)) return;
      this.opts.logger.error({ code, signal, output: this.output.slice(-5) }, 'managed haproxy exited unexpectedly');
      if (Date.now() - startedAt > 60_000) this.crashes = 0; // it had been running fine: restart quickly
      this.scheduleRestart();
    });
    child.once('error', (e) => this.opts.logger.error({ err: e }, 'could not run haproxy'));

    const deadline = Date.now() + this.checkTimeoutMs;
    for (;;) {
      if (!this.running()) {
        await this.childExited;
        throw new DriverError('reload', `haproxy did not start${this.alerts()}`);
      }
      const procs = await this.processes().catch(() => undefined);
      const worker = procs?.workers[0];
      if (worker) {
        starting = false;
        this.currentWorker = worker.pid;
        this.opts.logger.info({ pid: child.pid, worker: worker.pid }, 'managed haproxy started');
        return;
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        await this.childExited;
        throw new DriverError('reload', `haproxy started no worker within ${this.checkTimeoutMs} ms${this.alerts()}`);
      }
      await sleep(100);
    }
  }

  private alerts(): string {
    const alerts = this.output.filter((l) => l.includes('[ALERT]'));
    return alerts.length ? `: ${condense(alerts.join('\n'))}` : '';
  }
}

/** Tool output made readable in one line of a command result (bounded). */
function condense(text: string): string {
  const oneLine = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' | ');
  return oneLine.length > 2000 ? `${oneLine.slice(0, 2000)}…` : oneLine;
}

/** Whether a process exists and is not a zombie (an orphan's parent may reap it late). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Nobody listens on the socket: it does not exist, or its owner is gone. */
function isNoListener(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ECONNREFUSED';
}
