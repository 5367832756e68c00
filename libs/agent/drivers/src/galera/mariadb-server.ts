import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readFileIfExists, runFile, sleep } from '@triad/agent-core';
import { myCnfServerOptions } from './my-cnf';

export interface MariadbServerOptions {
  /** The live galera.cnf mariadbd is started with (`--defaults-file`). */
  configFile: string;
  mariadbdBin: string;
  /** The `mariadb` client. */
  mariadbBin: string;
  /** Unix user mariadbd drops to. */
  user: string;
  /**
   * Client option file (credentials for a monitoring user); without it the client connects as root
   * over the socket (unix_socket authentication, the agent runs as root).
   */
  clientDefaultsFile?: string;
  /** stdout/stderr of a mariadbd the agent starts; discarded when unset (log-error keeps the server's log). */
  consoleLogFile?: string;
}

/** Files and sockets of the node, read from the live galera.cnf. */
export interface MariadbLayout {
  datadir: string;
  socket: string;
  pidFile: string;
  errorLog?: string;
}

export class MariadbQueryError extends Error {}

/**
 * One node's mariadbd as the agent sees it: the process behind its pid file, SQL over its socket
 * (the `mariadb` CLI, no shell), and start/stop. Knows nothing about configuration changes.
 */
export class MariadbServer {
  /** mariadbd processes this agent started (reaped by Node; their process group is cleaned up on exit). */
  private readonly children = new Set<ChildProcess>();

  constructor(private readonly opts: MariadbServerOptions) {}

  layout(): MariadbLayout {
    const o = myCnfServerOptions(readFileSync(this.opts.configFile, 'utf8'));
    const datadir = o.get('datadir') ?? '/var/lib/mysql';
    const socket = o.get('socket') ?? '/run/mysqld/mysqld.sock';
    const pid = o.get('pid_file') ?? `${hostname().split('.')[0]}.pid`;
    return { datadir, socket, pidFile: pid.startsWith('/') ? pid : join(datadir, pid), errorLog: o.get('log_error') };
  }

  /** The running mariadbd's pid (from its pid file, checked against /proc), or undefined. */
  async pid(): Promise<number | undefined> {
    const text = await readFileIfExists(this.layout().pidFile);
    const pid = Number(text?.trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    return isLiveMariadbd(pid) ? pid : undefined;
  }

  /** Runs one SQL statement; rows of tab-separated columns. Throws MariadbQueryError when the server does not answer. */
  async query(sql: string, timeoutMs = 10_000): Promise<string[][]> {
    const { socket } = this.layout();
    const defaults = this.opts.clientDefaultsFile ? [`--defaults-file=${this.opts.clientDefaultsFile}`] : ['--no-defaults', '-uroot'];
    const r = await runFile(this.opts.mariadbBin, [...defaults, '--protocol=socket', `--socket=${socket}`, '--batch', '--skip-column-names', '-e', sql], timeoutMs);
    if (r.code !== 0) throw new MariadbQueryError(r.stderr.trim() || `mariadb exited with ${r.code}`);
    return r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split('\t'));
  }

  /** `SHOW GLOBAL STATUS LIKE 'wsrep_%'`, or undefined when the server does not answer. */
  async wsrepStatus(): Promise<Record<string, string> | undefined> {
    try {
      return Object.fromEntries((await this.query("SHOW GLOBAL STATUS LIKE 'wsrep_%'", 5_000)).map(([k, v]) => [k, v ?? '']));
    } catch {
      return undefined;
    }
  }

  /**
   * Starts mariadbd in its own process group so that it (and its SST children) outlive the agent:
   * the database must not stop because the agent restarts.
   */
  start(extraArgs: string[] = []): ChildProcess {
    const fd = this.opts.consoleLogFile ? openSync(this.opts.consoleLogFile, 'a') : undefined;
    const child = spawn(this.opts.mariadbdBin, [`--defaults-file=${this.opts.configFile}`, `--user=${this.opts.user}`, ...extraArgs], {
      detached: true,
      stdio: ['ignore', fd ?? 'ignore', fd ?? 'ignore'],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' },
    });
    if (fd !== undefined) closeSync(fd);
    this.children.add(child);
    child.once('exit', () => {
      this.children.delete(child);
      // What the server forked into its group (an SST script, rsync) goes with it.
      if (child.pid) killGroup(child.pid);
    });
    child.unref();
    return child;
  }

  /**
   * Graceful stop: SIGTERM and wait until the process is gone (InnoDB shutdown, Galera leaves the
   * group cleanly so the last node out gets safe_to_bootstrap: 1). SIGKILL only when `killAfterMs` is given.
   */
  async stop(timeoutMs: number, killAfterMs?: number): Promise<boolean> {
    const pid = await this.pid();
    if (pid === undefined) return false;
    signal(pid, 'SIGTERM');
    const started = Date.now();
    while (isLiveMariadbd(pid)) {
      const waited = Date.now() - started;
      if (killAfterMs !== undefined && waited > killAfterMs) signal(pid, 'SIGKILL');
      else if (waited > timeoutMs) throw new Error(`mariadbd (pid ${pid}) did not stop within ${timeoutMs} ms of SIGTERM`);
      await sleep(100);
    }
    return true;
  }

  /** The last lines of mariadbd's error log, to explain a failed start. */
  errorLogTail(lines = 15): string {
    const { errorLog } = this.layout();
    if (!errorLog) return '';
    try {
      return readFileSync(errorLog, 'utf8').split('\n').filter((l) => /ERROR|\[Warning\] WSREP/.test(l)).slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // no group left
  }
}

/** Alive, not a zombie, and really mariadbd (a stale pid file may name a reused pid). */
function isLiveMariadbd(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X' && /\((mariadbd|mysqld)\)/.test(stat);
  } catch {
    return false;
  }
}
