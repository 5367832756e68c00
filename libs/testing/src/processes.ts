import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';

export const REPO_ROOT = join(__dirname, '..', '..', '..');

/** A TypeScript entrypoint of this repo run as its own process, the way operators run it. */
export interface TriadProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  log(): string;
  /** Resolves with the exit code (or null after a signal). */
  readonly exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

export function startTsProcess(opts: {
  name: string;
  entry: string; // path relative to the repo root
  args?: string[];
  env: Record<string, string>;
  logFile: string;
}): TriadProcess {
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const out = createWriteStream(opts.logFile, { flags: 'a' });
  const child = spawn(process.execPath, ['-r', '@swc-node/register', join(REPO_ROOT, opts.entry), ...(opts.args ?? [])], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', SWC_NODE_PROJECT: join(REPO_ROOT, 'tsconfig.json'), ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(out, { end: false });
  child.stderr?.pipe(out, { end: false });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    name: opts.name,
    child,
    logFile: opts.logFile,
    exited,
    log: () => readFileSync(opts.logFile, 'utf8'),
    async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Polls `probe` until it returns a truthy value; throws naming `what` at the deadline, or as soon
 * as `signal` aborts (so a harness that gave up leaves no poller spawning tools behind it).
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 30_000,
  everyMs = 100,
  signal?: AbortSignal,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (!signal?.aborted) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  const why = signal?.aborted ? 'gave up' : `timed out after ${timeoutMs} ms`;
  throw new Error(`${why} waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}
