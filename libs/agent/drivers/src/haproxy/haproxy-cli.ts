import { createConnection } from 'node:net';

/**
 * A client for HAProxy's CLI sockets (the master CLI given with -S, and the stats socket), in Node:
 * one command per connection, like `echo CMD | socat stdio unix-connect:SOCK`. Commands are fixed
 * strings built here, never text from a command's parameters.
 */
export function haproxyCli(socketPath: string, command: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to "${command}" on ${socketPath} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => socket.end(`${command}\n`));
    socket.on('data', (b: Buffer) => chunks.push(b));
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on('close', (hadError) => {
      clearTimeout(timer);
      if (!hadError) resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

export interface HaproxyProcesses {
  master: { pid: number; reloads: number; failedReloads: number } | undefined;
  /** Current workers first, then workers still finishing old connections. */
  workers: { pid: number; reloads: number }[];
}

/**
 * Parses the master CLI's `show proc` (2.6):
 * `13119  master  1 [failed: 0]  0d00h00m02s  2.6.12`, then `# workers` lines `13131  worker  0 …`.
 */
export function parseShowProc(text: string): HaproxyProcesses {
  const out: HaproxyProcesses = { master: undefined, workers: [] };
  for (const line of text.split('\n')) {
    const master = /^(\d+)\s+master\s+(\d+)(?:\s+\[failed:\s*(\d+)\])?/.exec(line);
    if (master) {
      out.master = { pid: Number(master[1]), reloads: Number(master[2]), failedReloads: Number(master[3] ?? 0) };
      continue;
    }
    const worker = /^(\d+)\s+worker\s+(\d+)/.exec(line);
    if (worker) out.workers.push({ pid: Number(worker[1]), reloads: Number(worker[2]) });
  }
  return out;
}

export interface StatRow {
  proxy: string;
  /** FRONTEND, BACKEND, or a server name. */
  name: string;
  /** OPEN, UP, DOWN, MAINT, no check, … (field 18). */
  status: string;
  /** L4OK, L7STS, … (field 37); empty without checks. */
  checkStatus: string;
}

/** Parses `show stat` CSV (header line `# pxname,svname,…`). */
export function parseShowStat(csv: string): StatRow[] {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const header = lines.find((l) => l.startsWith('# '));
  if (!header) throw new Error(`not a "show stat" answer: ${csv.slice(0, 200)}`);
  const cols = header.slice(2).split(',');
  const at = (name: string): number => cols.indexOf(name);
  const [px, sv, status, check] = [at('pxname'), at('svname'), at('status'), at('check_status')];
  return lines
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.split(','))
    .map((f) => ({ proxy: f[px] ?? '', name: f[sv] ?? '', status: f[status] ?? '', checkStatus: f[check] ?? '' }));
}

/** Names of the proxies that accept connections (`frontend` and `listen` sections) in a config. */
export function configFrontends(config: string): string[] {
  const names: string[] = [];
  for (const line of config.split('\n')) {
    const m = /^\s*(frontend|listen)\s+(\S+)/.exec(line);
    if (m) names.push(m[2]);
  }
  return names;
}
