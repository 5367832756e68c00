import { execFile, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * A daemon run in the foreground as a child of the test process, in its own process group so
 * that `stop()` also ends what it forked (SST scripts, rsync daemons, erl_child_setup…) without
 * matching anything by name.
 */
export interface GroupProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves when the group leader exits (code, or null after a signal). */
  readonly exited: Promise<number | null>;
  running(): boolean;
  /** Last `lines` lines of the log, for error messages. */
  logTail(lines?: number): string;
  /** Signals the leader, escalates to SIGKILL after `timeoutMs`, then kills what is left of its group. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

/**
 * Groups still running. Detached groups would outlive a test process that exits without calling
 * stop() (a failed assertion before cleanup, process.exit), so they are killed on its way out.
 */
const liveGroups = new Set<number>();
process.once('exit', () => {
  for (const pid of liveGroups) signalGroupMember(-pid, 'SIGKILL');
});

export function spawnGroupProcess(opts: {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  logFile: string;
  cwd?: string;
}): GroupProcess {
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const fd = openSync(opts.logFile, 'a');
  const child = spawn(opts.command, opts.args, {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`${opts.name}: could not spawn ${opts.command}`);
  const pid = child.pid;
  liveGroups.add(pid);
  let alive = true;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      alive = false;
      resolve(code);
    });
    child.once('error', () => {
      alive = false;
      resolve(null);
    });
  });
  return {
    name: opts.name,
    pid,
    logFile: opts.logFile,
    exited,
    running: () => alive,
    logTail: (lines = 30) => fileTail(opts.logFile, lines),
    async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000) {
      if (alive) {
        signalGroupMember(pid, signal);
        const timer = setTimeout(() => signalGroupMember(pid, 'SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(timer);
      }
      // The leader is gone; anything it forked into its group goes too.
      signalGroupMember(-pid, 'SIGKILL');
      liveGroups.delete(pid);
    },
  };
}

/** A step of a cluster start and when it completed, in ms from the first spawn (for timing reports). */
export interface StartupMilestone {
  label: string;
  atMs: number;
}

/** The last `lines` lines of a log file ('' when it does not exist yet), for error messages. */
export function fileTail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function signalGroupMember(pidOrGroup: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pidOrGroup, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/**
 * Runs a tool to completion (no shell); rejects with its stderr when it fails. `signal` kills it
 * early: a harness aborts its pending probes when it gives up, so none outlives it.
 */
export function runTool(command: string, args: string[], opts: { env?: Record<string, string>; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env: opts.env, timeout: opts.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024, signal: opts.signal, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Resolves with `waiting`, or rejects as soon as the process exits (no point polling a dead node). */
export async function failFastOnExit<T>(proc: GroupProcess, waiting: Promise<T>): Promise<T> {
  const exited = proc.exited.then((code) => {
    throw new Error(`${proc.name} exited (code ${code})`);
  });
  // The losing branch must not surface as an unhandled rejection.
  exited.catch(() => undefined);
  waiting.catch(() => undefined);
  return Promise.race([waiting, exited]);
}
