import { rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DriverError, fsyncDir, readFileIfExists, runFile, sleep, writeFileAtomic, type ComponentDriver } from '@triad/agent-core';
import type { ComponentHealth, CorosyncHealthDetail } from '@triad/protocol';
import type { Logger } from '@triad/logging';
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
  private readonly run: ToolRunner;
  private readonly staged: string;
  private readonly previous: string;
  private readonly checkTimeoutMs: number;

  constructor(private readonly opts: CorosyncDriverOptions) {
    this.run = opts.run ?? runOnThisNode;
    this.staged = `${opts.configFile}.staged`;
    this.previous = `${opts.configFile}.previous`;
    this.checkTimeoutMs = opts.checkTimeoutMs ?? 15_000;
  }

  async start(): Promise<void> {
    // Corosync is started by the cluster stack (systemd, the lab), never by the agent.
  }

  async stop(): Promise<void> {
    // See start().
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
    if (!(await this.running())) {
      this.opts.logger.info({ config: this.opts.configFile }, 'corosync is not running; it reads the new file when the cluster stack starts');
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
      if (Date.now() > deadline) throw new DriverError('check', `corosync health check failed: ${problem}`);
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
    await this.reload();
    await this.check(previous);
    return 'the previous corosync.conf was restored';
  }

  async probe(): Promise<ComponentHealth> {
    const health = (state: ComponentHealth['state'], summary: string): ComponentHealth => ({ component: this.component, state, summary, detailJson: '' });
    if ((await readFileIfExists(this.opts.configFile)) === undefined) return health('COMPONENT_NOT_CONFIGURED', 'no corosync.conf applied yet');
    try {
      const detail = await this.detail();
      return detail ? corosyncHealth(detail) : health('COMPONENT_DOWN', 'corosync is not running');
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
  private async runtimeProblem(wanted: string[]): Promise<string | undefined> {
    const cmap = await this.run(CLUSTER_TOOLS.corosyncCmapctl, ['-b', 'nodelist.node'], { timeoutMs: TOOL_TIMEOUT_MS });
    const running = [...cmap.stdout.matchAll(/^nodelist\.node\.\d+\.name \(str\) = (\S+)$/gm)].map((m) => m[1] ?? '').sort();
    if (running.join(',') !== wanted.join(',')) return `the running nodelist is [${running.join(', ')}], the file's is [${wanted.join(', ')}]`;
    const detail = await this.detail();
    if (!detail?.quorum) return 'corosync-quorumtool does not answer';
    if (!detail.quorum.members.some((m) => m.local && m.name === this.opts.nodeName)) return `${this.opts.nodeName} is not a member`;
    if (!detail.quorum.quorate) return `not quorate (${detail.quorum.totalVotes}/${detail.quorum.expectedVotes} votes, ${detail.quorum.quorum} needed)`;
    return undefined;
  }
}
