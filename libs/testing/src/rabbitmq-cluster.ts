import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitFor } from './processes';
import { failFastOnExit, runTool, spawnGroupProcess, type GroupProcess, type StartupMilestone } from './process-group';

/** The server's own scripts, not the /usr/sbin wrappers (those switch user and use /var/lib/rabbitmq). */
export const RABBITMQ_BIN_DIR = '/usr/lib/rabbitmq/bin';
export const EPMD_BIN = '/usr/bin/epmd';

/** Where a lab node keeps its files under the cluster's base directory (feed these to the host profile). */
export interface RabbitmqNodePaths {
  dir: string;
  configFile: string;
  advancedConfigFile: string;
  definitionsFile: string;
  enabledPluginsFile: string;
  /** The node's rabbitmq-env.conf (empty unless given), so the machine's /etc/rabbitmq/rabbitmq-env.conf is not sourced. */
  confEnvFile: string;
  mnesiaBase: string;
  logBase: string;
  pidFile: string;
  /** stdout/stderr of rabbitmq-server. */
  consoleLog: string;
}

export function rabbitmqNodePaths(baseDir: string, nodeName: string): RabbitmqNodePaths {
  const dir = join(baseDir, nodeName);
  return {
    dir,
    configFile: join(dir, 'rabbitmq.conf'),
    advancedConfigFile: join(dir, 'advanced.config'),
    definitionsFile: join(dir, 'definitions.json'),
    enabledPluginsFile: join(dir, 'enabled_plugins'),
    confEnvFile: join(dir, 'rabbitmq-env.conf'),
    mnesiaBase: join(dir, 'mnesia'),
    logBase: join(dir, 'log'),
    pidFile: join(dir, 'rabbitmq.pid'),
    consoleLog: join(dir, 'console.log'),
  };
}

export interface RabbitmqNodeConfig {
  /** e.g. `rabbit-c1@localhost`: names on one machine differ because they share one epmd. */
  erlangNodeName: string;
  /** Erlang distribution port of this node (each node on one machine needs its own). */
  distPort: number;
  rabbitmqConf: string;
  advancedConfig?: string;
  /** Written to `paths.definitionsFile`; rabbitmq.conf must point `load_definitions` there. */
  definitions?: string;
  /**
   * A rendered rabbitmq-env.conf. When given, the node takes its name, dist port, config path,
   * mnesia/log bases and epmd address/port from it (its epmd port must be the cluster's); the
   * harness then sets none of those itself. Without it the harness sets them from `paths`.
   */
  envConf?: string;
}

export interface StartRabbitmqClusterOptions {
  /** Per node; the first key boots alone first, the others then find it through peer discovery. */
  configs: Record<string, RabbitmqNodeConfig>;
  /** The shared Erlang cookie (written to `<baseDir>/home/.erlang.cookie`, mode 400). */
  cookie: string;
  /** Directory the cluster owns: node files under `<baseDir>/<node>`; `stop()` removes it. */
  baseDir: string;
  /** Port of the cluster's private epmd (a free one when unset); never the machine's 4369. */
  epmdPort?: number;
  nodeTimeoutMs?: number;
}

export interface RabbitmqClusterStatus {
  running_nodes: string[];
  disk_nodes: string[];
  partitions: Record<string, string[]>;
}

export interface RabbitmqNode {
  readonly name: string;
  readonly erlangNodeName: string;
  readonly paths: RabbitmqNodePaths;
  readonly process: GroupProcess;
  /** Runs `rabbitmqctl -n <node> <args>` with this node's environment; resolves with stdout. */
  ctl(args: string[], timeoutMs?: number): Promise<string>;
  clusterStatus(): Promise<RabbitmqClusterStatus>;
}

export interface RabbitmqCluster {
  readonly baseDir: string;
  readonly epmdPort: number;
  readonly nodes: RabbitmqNode[];
  node(name: string): RabbitmqNode;
  /** From the first spawn until every node listed all nodes as running. */
  readonly formedInMs: number;
  /** When each node had booted (the first alone, the others after joining it), then the full cluster. */
  readonly milestones: StartupMilestone[];
  /** Stops every node and the private epmd, by PID, and removes `baseDir`. */
  stop(): Promise<void>;
}

/** rabbitmqctl's own distribution listener on loopback only. */
const LOOPBACK_DIST_ARGS = '-kernel inet_dist_use_interface {127,0,0,1}';

function nodeEnv(home: string, epmdPort: number, cfg: RabbitmqNodeConfig, paths: RabbitmqNodePaths): Record<string, string> {
  const fromEnvConf: Record<string, string> =
    cfg.envConf !== undefined
      ? {}
      : {
          ERL_EPMD_PORT: String(epmdPort),
          ERL_EPMD_ADDRESS: '127.0.0.1',
          RABBITMQ_NODENAME: cfg.erlangNodeName,
          RABBITMQ_DIST_PORT: String(cfg.distPort),
          RABBITMQ_CONFIG_FILE: paths.configFile,
          RABBITMQ_MNESIA_BASE: paths.mnesiaBase,
          RABBITMQ_LOG_BASE: paths.logBase,
        };
  return {
    PATH: `${RABBITMQ_BIN_DIR}:/usr/sbin:/usr/bin:/sbin:/bin`,
    HOME: home,
    // The CLI (Elixir) refuses to run without a UTF-8 locale.
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    ...fromEnvConf,
    RABBITMQ_CONF_ENV_FILE: paths.confEnvFile,
    RABBITMQ_ADVANCED_CONFIG_FILE: paths.advancedConfigFile,
    RABBITMQ_ENABLED_PLUGINS_FILE: paths.enabledPluginsFile,
    RABBITMQ_PID_FILE: paths.pidFile,
    // The server's distribution interface is the rendered file's business; the CLI's is ours.
    RABBITMQ_CTL_ERL_ARGS: LOOPBACK_DIST_ARGS,
  };
}

/**
 * Starts a real RabbitMQ cluster from rendered rabbitmq.conf files. The nodes form the cluster
 * themselves through the classic_config peer discovery of the rendered files: the first node
 * boots alone (no peer answers), then the others boot together and join it. Everything runs as
 * children of this process with a private epmd; a failed start stops whatever it had started.
 */
export async function startRabbitmqCluster(opts: StartRabbitmqClusterOptions): Promise<RabbitmqCluster> {
  const names = Object.keys(opts.configs);
  if (names.length === 0) throw new Error('startRabbitmqCluster: no configs');
  const nodeTimeoutMs = opts.nodeTimeoutMs ?? 90_000;
  const home = join(opts.baseDir, 'home');
  const nodes: RabbitmqNode[] = [];
  let epmd: GroupProcess | undefined;
  // Pending rabbitmqctl runs (wait, cluster_status) die with the cluster.
  const tools = new AbortController();
  const stop = async (): Promise<void> => {
    tools.abort();
    // rabbitmq-server traps TERM and runs `rabbitmqctl stop` itself.
    await Promise.all(nodes.map((n) => n.process.stop('SIGTERM', 30_000)));
    await epmd?.stop('SIGTERM', 5_000);
    rmSync(opts.baseDir, { recursive: true, force: true });
  };

  const startedAt = Date.now();
  const milestones: StartupMilestone[] = [];
  const mark = (label: string) => milestones.push({ label, atMs: Date.now() - startedAt });
  try {
    mkdirSync(home, { recursive: true });
    const cookieFile = join(home, '.erlang.cookie');
    writeFileSync(cookieFile, opts.cookie, { mode: 0o400 });
    chmodSync(cookieFile, 0o400);
    const epmdPort = opts.epmdPort ?? (await freePort());
    epmd = spawnGroupProcess({
      name: 'epmd',
      command: EPMD_BIN,
      args: ['-port', String(epmdPort), '-address', '127.0.0.1'],
      env: { PATH: '/usr/bin:/bin' },
      logFile: join(opts.baseDir, 'epmd.log'),
    });
    const runningEpmd = epmd;
    await waitFor('private epmd', () => runTool(EPMD_BIN, ['-port', String(epmdPort), '-names']).then(() => runningEpmd.running()), 10_000, 100);

    const startNode = (name: string): RabbitmqNode => {
      const cfg = opts.configs[name];
      const paths = rabbitmqNodePaths(opts.baseDir, name);
      for (const dir of [paths.dir, paths.mnesiaBase, paths.logBase]) mkdirSync(dir, { recursive: true });
      writeFileSync(paths.configFile, cfg.rabbitmqConf);
      if (cfg.advancedConfig !== undefined) writeFileSync(paths.advancedConfigFile, cfg.advancedConfig);
      if (cfg.definitions !== undefined) writeFileSync(paths.definitionsFile, cfg.definitions);
      // No plugins: the management plugin would want port 15672, which is the machine's.
      writeFileSync(paths.enabledPluginsFile, '[].\n');
      writeFileSync(paths.confEnvFile, cfg.envConf ?? '');
      const env = nodeEnv(home, epmdPort, cfg, paths);
      const proc = spawnGroupProcess({ name: `rabbitmq ${name}`, command: join(RABBITMQ_BIN_DIR, 'rabbitmq-server'), args: [], env, logFile: paths.consoleLog, cwd: paths.dir });
      const ctl = (args: string[], timeoutMs = 30_000) => runTool(join(RABBITMQ_BIN_DIR, 'rabbitmqctl'), ['-n', cfg.erlangNodeName, ...args], { env, timeoutMs, signal: tools.signal });
      const node: RabbitmqNode = {
        name,
        erlangNodeName: cfg.erlangNodeName,
        paths,
        process: proc,
        ctl,
        async clusterStatus() {
          return JSON.parse(await ctl(['cluster_status', '--formatter', 'json'])) as RabbitmqClusterStatus;
        },
      };
      nodes.push(node);
      return node;
    };
    const waitBooted = (node: RabbitmqNode) =>
      failFastOnExit(node.process, node.ctl(['wait', '--timeout', String(Math.round(nodeTimeoutMs / 1000)), node.paths.pidFile], nodeTimeoutMs + 5_000));

    const [first, ...rest] = names;
    await waitBooted(startNode(first));
    mark(`${first} booted`);
    await Promise.all(rest.map((name) => waitBooted(startNode(name)).then(() => mark(`${name} booted`))));
    const all = nodes.map((n) => n.erlangNodeName).sort();
    await Promise.all(
      nodes.map((node) =>
        failFastOnExit(
          node.process,
          waitFor(
            `${node.name} to see ${all.length} running nodes`,
            async () => {
              const running = (await node.clusterStatus()).running_nodes.slice().sort();
              return running.length === all.length && running.every((n, i) => n === all[i]);
            },
            nodeTimeoutMs,
            250,
            tools.signal,
          ),
        ),
      ),
    );
    mark(`all ${all.length} nodes running`);
    const formedInMs = Date.now() - startedAt;
    return {
      baseDir: opts.baseDir,
      epmdPort,
      nodes,
      formedInMs,
      milestones,
      node(name: string) {
        const found = nodes.find((n) => n.name === name);
        if (!found) throw new Error(`no RabbitMQ node ${name}`);
        return found;
      },
      stop,
    };
  } catch (e) {
    const logs = nodes.map((n) => `--- ${n.name} (${n.process.logFile})\n${n.process.logTail()}`).join('\n');
    await stop();
    throw new Error(`RabbitMQ cluster did not form: ${(e as Error).message}\n${logs}`);
  }
}
