import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';

/** A process identified by pid AND kernel start time, so a recycled pid is never signalled. */
export interface ProcessRef {
  pid: number;
  /** Field 22 of /proc/PID/stat (clock ticks since boot). */
  startTime: number;
}

function readStat(pid: number): { state: string; startTime: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parentheses: split after the last ')'.
    const [state = '', ...rest] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state, startTime: Number(rest[18]) };
  } catch {
    return undefined;
  }
}

export function processRef(pid: number): ProcessRef | undefined {
  const stat = readStat(pid);
  return stat && { pid, startTime: stat.startTime };
}

export function processComm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Alive = same process still there and not a zombie (PID 1 reaps lab orphans only lazily). */
export function isAlive(ref: ProcessRef): boolean {
  const stat = readStat(ref.pid);
  return stat !== undefined && stat.startTime === ref.startTime && stat.state !== 'Z' && stat.state !== 'X';
}

function signal(ref: ProcessRef, sig: NodeJS.Signals): void {
  if (!isAlive(ref)) return;
  try {
    process.kill(ref.pid, sig);
  } catch {
    // It exited between the check and the signal.
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** SIGTERM (or `sig`), then SIGKILL after `timeoutMs`; resolves when every one is gone. */
export async function stopProcesses(refs: ProcessRef[], timeoutMs = 5_000, sig: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  for (const ref of refs) signal(ref, sig);
  const deadline = Date.now() + timeoutMs;
  while (refs.some(isAlive) && Date.now() < deadline) await sleep(50);
  for (const ref of refs) signal(ref, 'SIGKILL');
  while (refs.some(isAlive)) await sleep(20);
}

/** Inode of a namespace file (`/proc/PID/ns/net`, `/run/netns/NAME`), which identifies the namespace. */
export function namespaceInode(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => pid !== process.pid);
}

/** Every live process whose network namespace is the one bind-mounted at `/run/netns/<netns>`. */
export function processesInNetns(netns: string): (ProcessRef & { comm: string })[] {
  const inode = namespaceInode(`/run/netns/${netns}`);
  if (inode === undefined) return [];
  const found: (ProcessRef & { comm: string })[] = [];
  for (const pid of pids()) {
    try {
      if (!readlinkSync(`/proc/${pid}/ns/net`).endsWith(`[${inode}]`)) continue;
      const ref = processRef(pid);
      if (ref && isAlive(ref)) found.push({ ...ref, comm: processComm(pid) ?? '' });
    } catch {
      // Gone while scanning.
    }
  }
  return found;
}

/** Every live process whose command line mentions `text` (e.g. the lab's state directory). */
export function processesMentioning(text: string): ProcessRef[] {
  const found: ProcessRef[] = [];
  for (const pid of pids()) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text)) continue;
      const ref = processRef(pid);
      if (ref && isAlive(ref)) found.push(ref);
    } catch {
      // Gone while scanning.
    }
  }
  return found;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program (never through a shell) and returns its exit code and output. */
export function run(command: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: opts.timeoutMs ?? 30_000, env: opts.env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() || (error && !stderr ? error.message : '') });
    });
  });
}

/** Like `run`, but throws with the command's stderr when it fails. */
export async function mustRun(command: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  const result = await run(command, args, opts);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.code}): ${result.stderr.trim() || result.stdout.trim()}`);
  }
  return result.stdout;
}
