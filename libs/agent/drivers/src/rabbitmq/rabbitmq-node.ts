import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFileIfExists, runFile, sleep } from '@triad/agent-core';
import type { RabbitmqClusterStatusJson } from '../probes/rabbitmq-health';

export interface RabbitmqNodeOptions {
  /** The server's own scripts (`/usr/lib/rabbitmq/bin`), not the /usr/sbin wrappers that switch user. */
  binDir: string;
  /** This node's Erlang name (`rabbit@controller-1`), passed to every rabbitmqctl as `-n`. */
  erlangNodeName: string;
  /**
   * Environment of the server and the CLI: HOME (holding `.erlang.cookie`), RABBITMQ_CONF_ENV_FILE
   * (the rendered rabbitmq-env.conf: node name, epmd, paths), RABBITMQ_PID_FILE, LANG (the CLI
   * needs UTF-8). Nothing here is logged: the cookie lives in HOME, not in the environment.
   */
  env: Record<string, string>;
  /** PID file of the server (RABBITMQ_PID_FILE): `rabbitmqctl wait/stop` follow the process through it. */
  pidFile: string;
  /** stdout/stderr of a server the agent starts; discarded when unset (the node logs to log.dir). */
  consoleLogFile?: string;
}

export class RabbitmqCtlError extends Error {}

/** One RabbitMQ node through rabbitmqctl (execFile, argument arrays) and its server script. */
export class RabbitmqNode {
  constructor(readonly opts: RabbitmqNodeOptions) {}

  async ctl(args: string[], timeoutMs = 30_000): Promise<string> {
    const r = await runFile(join(this.opts.binDir, 'rabbitmqctl'), ['-n', this.opts.erlangNodeName, ...args], timeoutMs, { env: this.opts.env });
    if (r.code !== 0) throw new RabbitmqCtlError(`rabbitmqctl ${args[0]} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' ')}`);
    return r.stdout;
  }

  async clusterStatus(timeoutMs = 15_000): Promise<RabbitmqClusterStatusJson> {
    return JSON.parse(await this.ctl(['cluster_status', '--formatter', 'json'], timeoutMs)) as RabbitmqClusterStatusJson;
  }

  /** The Erlang VM's pid from the pid file, when that process is alive. */
  async pid(): Promise<number | undefined> {
    const pid = Number((await readFileIfExists(this.opts.pidFile))?.trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Alive, not a zombie, and an Erlang VM (a stale pid file may name a reused pid).
      return /\) [ZX] /.test(stat) || !/\(beam(\.smp)?\)/.test(stat) ? undefined : pid;
    } catch {
      return undefined;
    }
  }

  /** `rabbitmqctl stop <pidfile>`: stops the VM and waits for the process to exit. */
  async stopServer(timeoutMs: number): Promise<void> {
    if ((await this.pid()) === undefined) return;
    await this.ctl(['stop', this.opts.pidFile], timeoutMs);
  }

  /**
   * Starts the server in its own process group (it must outlive an agent restart) and waits until
   * the app is running (`rabbitmqctl wait`); a clustered node rejoins its cluster from its own data.
   */
  async startServer(timeoutMs: number): Promise<void> {
    const fd = this.opts.consoleLogFile ? openSync(this.opts.consoleLogFile, 'a') : undefined;
    const child = spawn(join(this.opts.binDir, 'rabbitmq-server'), [], { detached: true, stdio: ['ignore', fd ?? 'ignore', fd ?? 'ignore'], env: this.opts.env });
    if (fd !== undefined) closeSync(fd);
    child.once('exit', () => {
      // epmd is not in this group (it daemonizes); erl_child_setup and friends are.
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // nothing left
      }
    });
    child.unref();
    let exited: number | null | undefined;
    child.once('exit', (code) => (exited = code));
    // The pid file appears only once the VM runs: wait for it before `wait` reads it.
    const deadline = Date.now() + timeoutMs;
    while ((await this.pid()) === undefined) {
      if (exited !== undefined) throw new RabbitmqCtlError(`rabbitmq-server exited with ${exited} while starting`);
      if (Date.now() > deadline) throw new RabbitmqCtlError(`rabbitmq-server wrote no pid file within ${timeoutMs} ms`);
      await sleep(200);
    }
    await this.ctl(['wait', '--timeout', String(Math.max(1, Math.round((deadline - Date.now()) / 1000))), this.opts.pidFile], timeoutMs + 5_000);
  }
}
