import { rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DriverError, fsyncDir, readFileIfExists, runFile, sleep, writeFileAtomic, type ComponentDriver } from '@triad/agent-core';
import type { ComponentHealth, CorosyncHealthDetail } from '@triad/protocol';
import type { Logger } from '@triad/logging';
import type { ClusterStack } from '../cluster-stack/cluster-stack';
import { CLUSTER_TOOLS, runOnThisNode, toolOutput, type ToolRunner } from '../pacemaker/cluster-tools';
import { corosyncHealth, parseCfgtoolStatus, parseQuorumtoolStatus } from '../probes/pacemaker-corosync-status';
import { corosyncConfProblems, corosyncNodes, parseCorosyncConf } from './corosync-conf';

export interface CorosyncDriverOptions {
  /** This node's name in the nodelist. */
  nodeName: string;
  /** The live file corosync reads (`/etc/corosync/corosync.conf`); `.staged` and `.previous` sit beside it. */
  configFile: string;
  logger: Logger;
  /** How tools reach corosync; default: run them on this node. */
  run?: ToolRunner;
  /** How long the check after a reload waits for the new nodelist and quorum (default 15 s). */
  checkTimeoutMs?: number;
  /**
   * Starts Corosync and Pacemaker when a configuration is applied and they do not run (bring-up
   * from nothing, a new controller joining). Without it a stopped corosync reads the new file when
   * whoever runs the stack starts it.
   */
  stack?: ClusterStack;
}

const TOOL_TIMEOUT_MS = 20_000;

/**
 * corosync.conf: `<cfg>.staged` → checks of our own + `corosync -t` (Corosync's parser, run where
 * the node's addresses are, so it also finds this node in the nodelist) → live, the old one kept as
 * `<cfg>.previous` → a running corosync reloads it (`corosync-cfgtool -R`; a stopped one reads it
 * when the stack starts) → its runtime nodelist is the file's and this node is a quorate member →
 * otherwise the previous file is restored and reloaded.
 */
export class CorosyncDriver implements ComponentDriver {
  readonly component = 'corosync';
  readonly artifact = 'corosync.conf';

  get liveFile(): string {
    return this.opts.configFile;
  }

  private readonly run: ToolRunner;
  private readonly staged: string;
  private readonly previous: string;
  private readonly checkTimeoutMs: number;
  /** Set by a reload that started the cluster stack: the peers may not have their configuration yet. */
  private broughtUp = false;

  constructor(private readonly opts: CorosyncDriverOptions) {
    this.run = opts.run ?? runOnThisNode;
    this.staged = `${opts.configFile}.staged`;
    this.previous = `${opts.configFile}.previous`;
    this.checkTimeoutMs = opts.checkTimeoutMs ?? 15_000;
  }

  async start(): Promise<void> {
    // Corosync runs as part of the cluster stack (systemd, the lab), not as the agent's child: the
    // agent starts the stack only when it applies a configuration (reload).
  }

  async stop(): Promise<void> {
    // The stack outlives the agent.
  }

  async version(): Promise<string | undefined> {
    try {
      return /version '?([^'\s]+)/i.exec((await runFile(CLUSTER_TOOLS.corosync, ['-v'], 5_000)).stdout)?.[1];
    } catch {
      return undefined;
    }
  }

  async stage(content: string): Promise<void> {
    await writeFileAtomic(this.staged, content, 0o644);
  }

  async validate(): Promise<void> {
    const content = (await readFileIfExists(this.staged)) ?? '';
    const problems = corosyncConfProblems(content, this.opts.nodeName);
    if (problems.length) throw new DriverError('validate', `corosync.conf rejected: ${problems.join('; ')}`);
    const r = await this.run(CLUSTER_TOOLS.corosync, ['-t', '-c', this.staged], { timeoutMs: TOOL_TIMEOUT_MS });
    if (r.code !== 0) throw new DriverError('validate', `corosync -t rejected corosync.conf: ${toolOutput(r)}`);
  }

  async discardStaged(): Promise<void> {
    await unlink(this.staged).catch(() => undefined);
  }

  async swap(): Promise<void> {
    const live = await readFileIfExists(this.opts.configFile);
    if (live !== undefined) await writeFileAtomic(this.previous, live, 0o644);
    await rename(this.staged, this.opts.configFile);
    await fsyncDir(dirname(this.opts.configFile));
  }

  async reload(): Promise<void> {
    this.broughtUp = false;
    if (!(await this.running())) {
      if (!this.opts.stack) {
        this.opts.logger.info({ config: this.opts.configFile }, 'corosync is not running; it reads the new file when the cluster stack starts');
        return;
      }
      this.opts.logger.info({ config: this.opts.configFile }, 'corosync is not running: starting the cluster stack with the new file');
      try {
        await this.opts.stack.start();
      } catch (e) {
        throw new DriverError('reload', `could not start the cluster stack: ${(e as Error).message}`);
      }
      this.broughtUp = true;
      return;
    }
    // Every corosync of the cluster re-reads its own corosync.conf (nodelist and timeouts).
    const r = await this.run(CLUSTER_TOOLS.corosyncCfgtool, ['-R'], { timeoutMs: TOOL_TIMEOUT_MS });
    if (r.code !== 0) throw new DriverError('reload', `corosync-cfgtool -R failed: ${toolOutput(r)}`);
  }

  async check(content: string): Promise<void> {
    if (!(await this.running())) return;
    const wanted = corosyncNodes(parseCorosyncConf(content))
      .map((n) => n.name)
      .sort();
    const deadline = Date.now() + this.checkTimeoutMs;
    for (;;) {
      const problem = await this.runtimeProblem(wanted);
      if (!problem) return;
      if (Date.now() > deadline) {
        // Bring-up: this node is a member with the file's nodelist, and quorum comes as the other
        // nodes apply their configuration and start their stack; rolling back would only stop that.
        if (this.broughtUp && (await this.runtimeProblem(wanted, { quorum: false })) === undefined) {
          this.opts.logger.warn({ problem }, 'cluster stack started; not quorate yet (the other nodes join as they apply)');
          return;
        }
        throw new DriverError('check', `corosync health check failed: ${problem}`);
      }
      await sleep(500);
    }
  }

  async rollback(): Promise<string> {
    const previous = await readFileIfExists(this.previous);
    if (previous === undefined) {
      // First configuration on this node: nothing to go back to; corosync (if any) keeps its running one.
      await unlink(this.opts.configFile).catch(() => undefined);
      return 'there was no previous corosync.conf: the new one was removed';
    }
    await writeFileAtomic(this.opts.configFile, previous, 0o644);
    // Never starts the stack: a rollback puts back what was there, running or not.
    if (!(await this.running())) return 'the previous corosync.conf was restored (corosync does not run)';
    await this.reload();
    await this.check(previous);
    return 'the previous corosync.conf was restored';
  }

  async probe(): Promise<ComponentHealth> {
    const health = (state: ComponentHealth['state'], summary: string): ComponentHealth => ({ component: this.component, state, summary, detailJson: '' });
    const conf = await readFileIfExists(this.opts.configFile);
    if (conf === undefined) return health('COMPONENT_NOT_CONFIGURED', 'no corosync.conf applied yet');
    try {
      const detail = await this.detail();
      return detail ? corosyncHealth(detail, nodeNames(conf)) : health('COMPONENT_DOWN', 'corosync is not running');
    } catch (e) {
      return health('COMPONENT_UNKNOWN', `could not read corosync status: ${(e as Error).message}`);
    }
  }

  /** Links and quorum as this node sees them; undefined when corosync does not run. */
  private async detail(): Promise<CorosyncHealthDetail | undefined> {
    const links = await this.run(CLUSTER_TOOLS.corosyncCfgtool, ['-s'], { timeoutMs: TOOL_TIMEOUT_MS });
    if (links.code !== 0 && !links.stdout.includes('Local node ID')) return undefined;
    // Exit 2 = not quorate: the output is still the status.
    const quorum = await this.run(CLUSTER_TOOLS.corosyncQuorumtool, ['-s'], { timeoutMs: TOOL_TIMEOUT_MS });
    return { ...parseCfgtoolStatus(links.stdout), ...(quorum.stdout.includes('Quorate:') ? { quorum: parseQuorumtoolStatus(quorum.stdout) } : {}) };
  }

  private async running(): Promise<boolean> {
    return (await this.run(CLUSTER_TOOLS.corosyncCfgtool, ['-s'], { timeoutMs: TOOL_TIMEOUT_MS })).code === 0;
  }

  /** Why the running corosync does not (yet) match `wanted`, or undefined when it does. */
  private async runtimeProblem(wanted: string[], opts: { quorum: boolean } = { quorum: true }): Promise<string | undefined> {
    const cmap = await this.run(CLUSTER_TOOLS.corosyncCmapctl, ['-b', 'nodelist.node'], { timeoutMs: TOOL_TIMEOUT_MS });
    const running = [...cmap.stdout.matchAll(/^nodelist\.node\.\d+\.name \(str\) = (\S+)$/gm)].map((m) => m[1] ?? '').sort();
    if (running.join(',') !== wanted.join(',')) return `the running nodelist is [${running.join(', ')}], the file's is [${wanted.join(', ')}]`;
    const detail = await this.detail();
    if (!detail?.quorum) return 'corosync-quorumtool does not answer';
    if (!detail.quorum.members.some((m) => m.local && m.name === this.opts.nodeName)) return `${this.opts.nodeName} is not a member`;
    if (opts.quorum && !detail.quorum.quorate) return `not quorate (${detail.quorum.totalVotes}/${detail.quorum.expectedVotes} votes, ${detail.quorum.quorum} needed)`;
    return undefined;
  }
}

/** nodeid → name from a corosync.conf's nodelist; empty when the file does not parse. */
function nodeNames(conf: string): Map<number, string> {
  try {
    return new Map(corosyncNodes(parseCorosyncConf(conf)).filter((n) => n.name && n.nodeid).map((n) => [Number(n.nodeid), n.name]));
  } catch {
    return new Map();
  }
}
