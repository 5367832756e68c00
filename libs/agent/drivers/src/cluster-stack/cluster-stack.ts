import { sleep } from '@triad/agent-core';
import type { Logger } from '@triad/logging';
import { CLUSTER_TOOLS, runOnThisNode, toolOutput, type ToolRunner } from '../pacemaker/cluster-tools';

export interface ClusterStackOptions {
  /**
   * Commands that start Corosync and Pacemaker, run in order (agent env TRIAD_CLUSTER_STACK_START;
   * default `systemctl start corosync pacemaker`). Each returns once the daemons are launched.
   */
  startCommands: readonly (readonly string[])[];
  /** Commands that stop them (TRIAD_CLUSTER_STACK_STOP; default `systemctl stop pacemaker corosync`). */
  stopCommands: readonly (readonly string[])[];
  logger: Logger;
  /** How tools reach the node; default: run them on this node. */
  run?: ToolRunner;
  /** How long start() waits for both to answer, and stop() for both to be gone (default 90 s). */
  readyTimeoutMs?: number;
  /** Per command (default 300 s: stopping Pacemaker stops every resource it runs first). */
  commandTimeoutMs?: number;
}

export interface ClusterStackState {
  corosync: boolean;
  pacemaker: boolean;
}

export class ClusterStackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClusterStackError';
  }
}

const PROBE_TIMEOUT_MS = 10_000;

/**
 * Corosync + Pacemaker on this node (contract C, docs/agent.md). How they start is host
 * configuration (systemd on a real controller, the lab's script in a lab controller); whether they
 * run is read from the daemons themselves: corosync answers `corosync-cfgtool -s`, Pacemaker's CIB
 * manager answers `cibadmin --query`.
 */
export class ClusterStack {
  private readonly run: ToolRunner;
  private readonly readyTimeoutMs: number;
  private readonly commandTimeoutMs: number;

  constructor(private readonly opts: ClusterStackOptions) {
    this.run = opts.run ?? runOnThisNode;
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 90_000;
    this.commandTimeoutMs = opts.commandTimeoutMs ?? 300_000;
  }

  async isRunning(): Promise<ClusterStackState> {
    const answers = async (bin: string, args: string[]) => (await this.run(bin, args, { timeoutMs: PROBE_TIMEOUT_MS }).catch(() => ({ code: 1 }))).code === 0;
    const [corosync, pacemaker] = await Promise.all([
      answers(CLUSTER_TOOLS.corosyncCfgtool, ['-s']),
      answers(CLUSTER_TOOLS.cibadmin, ['--query', '--scope', 'nodes']),
    ]);
    return { corosync, pacemaker };
  }

  /** Runs the start commands and resolves once corosync and Pacemaker both answer. */
  async start(): Promise<void> {
    const t0 = Date.now();
    await this.runAll('start', this.opts.startCommands);
    await this.waitFor('start', (s) => s.corosync && s.pacemaker);
    this.opts.logger.info({ elapsedMs: Date.now() - t0 }, 'cluster stack started (corosync and pacemaker answer)');
  }

  /** Runs the stop commands and resolves once neither answers. */
  async stop(): Promise<void> {
    const t0 = Date.now();
    await this.runAll('stop', this.opts.stopCommands);
    await this.waitFor('stop', (s) => !s.corosync && !s.pacemaker);
    this.opts.logger.info({ elapsedMs: Date.now() - t0 }, 'cluster stack stopped');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  private async runAll(what: 'start' | 'stop', commands: ClusterStackOptions['startCommands']): Promise<void> {
    for (const [bin, ...args] of commands) {
      if (!bin) continue;
      const r = await this.run(bin, args, { timeoutMs: this.commandTimeoutMs }).catch((e: unknown) => ({ code: -1, stdout: '', stderr: e instanceof Error ? e.message : String(e) }));
      if (r.code !== 0) throw new ClusterStackError(`cluster stack ${what}: \`${[bin, ...args].join(' ')}\` exited ${r.code}: ${toolOutput(r)}`);
    }
  }

  private async waitFor(what: 'start' | 'stop', done: (s: ClusterStackState) => boolean): Promise<void> {
    const deadline = Date.now() + this.readyTimeoutMs;
    for (;;) {
      const state = await this.isRunning();
      if (done(state)) return;
      if (Date.now() > deadline) {
        throw new ClusterStackError(`cluster stack ${what}: after ${this.readyTimeoutMs} ms corosync is ${state.corosync ? 'running' : 'not running'} and pacemaker ${state.pacemaker ? 'running' : 'not running'}`);
      }
      await sleep(500);
    }
  }
}
