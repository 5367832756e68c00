import { chmodSync, chownSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { waitFor } from './processes';
import { failFastOnExit, fileTail, runTool, spawnGroupProcess, type GroupProcess, type StartupMilestone } from './process-group';

export const MARIADBD_BIN = '/usr/sbin/mariadbd';
export const MARIADB_CLI = '/usr/bin/mariadb';
export const MARIADB_INSTALL_DB = '/usr/bin/mariadb-install-db';

/** Where a lab node keeps its files under the cluster's base directory (feed these to the host profile). */
export interface GaleraNodePaths {
  dir: string;
  configFile: string;
  datadir: string;
  socket: string;
  pidFile: string;
  /** mariadbd's error log (log-error); its stdout/stderr go to `consoleLog`. */
  errorLog: string;
  consoleLog: string;
}

export function galeraNodePaths(baseDir: string, nodeName: string): GaleraNodePaths {
  const dir = join(baseDir, nodeName);
  return {
    dir,
    configFile: join(dir, 'galera.cnf'),
    datadir: join(dir, 'data'),
    socket: join(dir, 'run', 'mysqld.sock'),
    pidFile: join(dir, 'run', 'mysqld.pid'),
    errorLog: join(dir, 'mariadbd.err'),
    consoleLog: join(dir, 'console.log'),
  };
}

export interface StartGaleraClusterOptions {
  /** Rendered galera.cnf per node; the first key bootstraps the cluster (`--wsrep-new-cluster`). */
  configs: Record<string, string>;
  /**
   * Directory the cluster owns: node files go under `<baseDir>/<node>`, and `stop()` removes it.
   * Must be empty or absent.
   */
  baseDir: string;
  /** Runs on the bootstrap node once it is Synced, before any joiner starts (e.g. create the SST user). */
  afterBootstrap?: (node: GaleraNode) => Promise<void>;
  /** Per node: how long to wait for Synced. */
  nodeTimeoutMs?: number;
}

export interface GaleraNode {
  readonly name: string;
  readonly socket: string;
  readonly datadir: string;
  /** log-error of the config, when it sets one. */
  readonly errorLog?: string;
  readonly process: GroupProcess;
  /** Runs SQL as root over the node's own socket; rows of tab-separated columns. */
  query(sql: string): Promise<string[][]>;
  /** `SHOW GLOBAL STATUS LIKE 'wsrep_%'` as a map. */
  wsrepStatus(): Promise<Record<string, string>>;
}

export interface GaleraCluster {
  readonly baseDir: string;
  readonly nodes: GaleraNode[];
  node(name: string): GaleraNode;
  /** From the first spawn until every node reported Synced with the full cluster size. */
  readonly formedInMs: number;
  /** When each node became Synced (the bootstrap node first, then each joiner after its SST). */
  readonly milestones: StartupMilestone[];
  /** Stops every mariadbd it started (TERM, then KILL), by PID, and removes `baseDir`. */
  stop(): Promise<void>;
}

/** Options of the server groups MariaDB reads for mariadbd (later ones win). */
const SERVER_GROUPS = ['mysqld', 'server', 'mariadb', 'mariadbd', 'galera'];

/** The last value of `key` in the server groups of a my.cnf text (`-` and `_` are the same). */
export function myCnfOption(cnf: string, key: string): string | undefined {
  const wanted = key.replace(/-/g, '_');
  let inServerGroup = false;
  let value: string | undefined;
  for (const raw of cnf.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const group = /^\[(.+)\]$/.exec(line);
    if (group) {
      inServerGroup = SERVER_GROUPS.includes(group[1].trim());
      continue;
    }
    if (!inServerGroup) continue;
    const eq = line.indexOf('=');
    const name = (eq < 0 ? line : line.slice(0, eq)).trim().replace(/-/g, '_');
    if (name === wanted) value = eq < 0 ? '' : unquote(line.slice(eq + 1).trim());
  }
  return value;
}

function unquote(v: string): string {
  return /^(["']).*\1$/.test(v) ? v.slice(1, -1) : v;
}

const MYSQL_USER = 'mysql';

function mysqlIds(): { uid: number; gid: number } {
  const entry = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${MYSQL_USER}:`));
  if (!entry) throw new Error('no mysql user on this machine (install mariadb-server)');
  const [, , uid, gid] = entry.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry), uid, gid);
}

function toolEnv(): Record<string, string> {
  return { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' };
}

function makeNode(name: string, cnf: string, proc: GroupProcess, signal: AbortSignal): GaleraNode {
  const socket = myCnfOption(cnf, 'socket');
  const datadir = myCnfOption(cnf, 'datadir');
  if (!socket || !datadir) throw new Error(`galera.cnf of ${name} sets no socket or datadir`);
  const query = async (sql: string): Promise<string[][]> => {
    const out = await runTool(MARIADB_CLI, ['--no-defaults', '--protocol=socket', `--socket=${socket}`, '-uroot', '--batch', '--skip-column-names', '-e', sql], { env: toolEnv(), timeoutMs: 15_000, signal });
    return out
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split('\t'));
  };
  return {
    name,
    socket,
    datadir,
    errorLog: myCnfOption(cnf, 'log_error'),
    process: proc,
    query,
    async wsrepStatus() {
      return Object.fromEntries(await query("SHOW GLOBAL STATUS LIKE 'wsrep_%'"));
    },
  };
}

/**
 * Starts a real Galera cluster from rendered galera.cnf files: install-db and bootstrap on the
 * first node, then the others join one at a time (each gets a full SST from a donor; joining
 * together would queue on the single donor). A failed start stops whatever it had started.
 */
export async function startGaleraCluster(opts: StartGaleraClusterOptions): Promise<GaleraCluster> {
  const names = Object.keys(opts.configs);
  if (names.length === 0) throw new Error('startGaleraCluster: no configs');
  const nodeTimeoutMs = opts.nodeTimeoutMs ?? 60_000;
  const { uid, gid } = mysqlIds();
  const nodes: GaleraNode[] = [];
  // Pending status queries die with the cluster.
  const tools = new AbortController();
  const stop = async (): Promise<void> => {
    tools.abort();
    await Promise.all(nodes.map((n) => n.process.stop('SIGTERM', 20_000)));
    rmSync(opts.baseDir, { recursive: true, force: true });
  };

  const startedAt = Date.now();
  const milestones: StartupMilestone[] = [];
  try {
    mkdirSync(opts.baseDir, { recursive: true });
    // mariadbd runs as mysql and must traverse the base directory.
    chmodSync(opts.baseDir, 0o755);
    for (const [index, name] of names.entries()) {
      const cnf = opts.configs[name];
      const paths = galeraNodePaths(opts.baseDir, name);
      const socket = myCnfOption(cnf, 'socket');
      const datadir = myCnfOption(cnf, 'datadir');
      if (!socket || !datadir) throw new Error(`galera.cnf of ${name} sets no socket or datadir`);
      for (const dir of [paths.dir, datadir, dirname(socket)]) mkdirSync(dir, { recursive: true });
      writeFileSync(paths.configFile, cnf, { mode: 0o644 });
      const bootstrap = index === 0;
      if (bootstrap) {
        await runTool(MARIADB_INSTALL_DB, [`--defaults-file=${paths.configFile}`, `--user=${MYSQL_USER}`, '--skip-test-db'], { env: toolEnv(), timeoutMs: 60_000 });
      }
      for (const dir of new Set([paths.dir, datadir, dirname(socket)])) chownTree(dir, uid, gid);
      const args = [`--defaults-file=${paths.configFile}`, `--user=${MYSQL_USER}`, ...(bootstrap ? ['--wsrep-new-cluster'] : [])];
      const proc = spawnGroupProcess({ name: `mariadbd ${name}`, command: MARIADBD_BIN, args, env: toolEnv(), logFile: paths.consoleLog });
      const node = makeNode(name, cnf, proc, tools.signal);
      nodes.push(node);
      await waitForSynced(node, index + 1, nodeTimeoutMs, tools.signal);
      milestones.push({ label: `${name} Synced${bootstrap ? ' (bootstrapped)' : ' (joined by SST)'}`, atMs: Date.now() - startedAt });
      if (bootstrap && opts.afterBootstrap) await opts.afterBootstrap(node);
    }
    await Promise.all(nodes.map((n) => waitForSynced(n, nodes.length, nodeTimeoutMs, tools.signal)));
  } catch (e) {
    const logs = nodes.map((n) => `--- ${n.name}\n${n.process.logTail()}\n${n.errorLog ? fileTail(n.errorLog) : ''}`).join('\n');
    await stop();
    throw new Error(`Galera cluster did not form: ${(e as Error).message}\n${logs}`);
  }
  const formedInMs = Date.now() - startedAt;
  return {
    baseDir: opts.baseDir,
    nodes,
    formedInMs,
    milestones,
    node(name: string) {
      const found = nodes.find((n) => n.name === name);
      if (!found) throw new Error(`no Galera node ${name}`);
      return found;
    },
    stop,
  };
}

async function waitForSynced(node: GaleraNode, clusterSize: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const synced = waitFor(
    `${node.name} Synced in a cluster of ${clusterSize}`,
    async () => {
      const s = await node.wsrepStatus();
      return s.wsrep_ready === 'ON' && s.wsrep_local_state_comment === 'Synced' && Number(s.wsrep_cluster_size) === clusterSize;
    },
    timeoutMs,
    250,
    signal,
  );
  await failFastOnExit(node.process, synced);
}
