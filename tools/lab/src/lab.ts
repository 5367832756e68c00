/**
 * The lab: real controller nodes on one machine. Each controller is a network namespace on a
 * bridge (in a switch namespace) with a private mount/UTS namespace held by an anchor process; the
 * root namespace reaches the lab through a gateway veth. See docs/lab.md.
 */
import { spawn as spawnChild } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { SERVICE_CATALOGUE } from '@triad/spec';
import {
  isAlive,
  mustRun,
  processesInNetns,
  processComm,
  processesMentioning,
  processRef,
  run,
  stopProcesses,
  type ProcessRef,
  type RunResult,
} from './host-process';
import {
  DEFAULT_STATE_ROOT,
  labDir,
  readLabState,
  releaseNets,
  reserveNet,
  writeLabState,
  type ControllerRecord,
  type LabState,
  type SupervisedRecord,
} from './lab-state';
import { LAB_HOST_PROFILE } from './lab-cluster-spec';
import { anchorScript, NODE_MOUNTS } from './node-mounts';

/** Every lab lives in 10.77.0.0/16: lab N uses 10.77.N.0/24 (controllers .1…, gateway .254). */
export const LAB_NETWORK_PREFIX = '10.77';
export const REPO_ROOT = resolve(__dirname, '../../..');
const STANDIN_SCRIPT = join(REPO_ROOT, 'tools/lab/standin-service.ts');
const TS_ENV = { SWC_NODE_PROJECT: join(REPO_ROOT, 'tsconfig.json') };
/** Starts / stops Corosync and Pacemaker inside a controller: the lab's systemd (run inside it). */
export const LAB_CLUSTER_STACK_SCRIPT = join(REPO_ROOT, 'tools/lab/cluster-stack.sh');
/** Written by LAB_CLUSTER_STACK_SCRIPT's start (`systemctl enable`): `start NODE` boots the stack. */
const LAB_STACK_ENABLED = '/var/lib/corosync/lab-stack-enabled';
/** The lab's secret store (what a deployment resolves a spec's secret references into), per lab. */
const ERLANG_COOKIE_SECRET = 'secrets/rabbitmq-erlang-cookie';
/** Where `spawnAgent` keeps an agent's state inside its controller (a per-node mount, see node-mounts.ts). */
export const LAB_AGENT_STATE_DIR = '/var/lib/triad-agent';

export interface StandinService {
  name: string;
  port: number;
}

/** The OpenStack APIs a controller answers for by default (ports from the spec's catalogue). */
export const DEFAULT_STANDIN_SERVICES: StandinService[] = (
  ['keystone', 'glance-api', 'nova-api', 'placement', 'neutron-server', 'cinder-api', 'heat-api', 'horizon'] as const
).map((name) => ({ name, port: SERVICE_CATALOGUE[name].port }));

export interface LabOptions {
  /** Lab name: namespaces are `<name>-sw`, `<name>-c1`…; at most 12 characters. Default `triad`. */
  name?: string;
  controllers?: number;
  /**
   * Third octet of the lab subnet 10.77.<net>.0/24. Default: 0 for the lab named `triad`, else
   * `auto` — the first subnet no other lab has reserved.
   */
  net?: number | 'auto';
  stateRoot?: string;
  /** Stand-in API services on every controller; `[]` for none. */
  services?: StandinService[];
}

export interface SpawnOptions {
  /** Added to the lab tool's own environment. */
  env?: Record<string, string>;
  /** Working directory inside the controller (default: the repository root). */
  cwd?: string;
  /** Resolve only once these ports answer on the controller's address. */
  readyPorts?: number[];
  /** Resolve only once this command succeeds inside the controller (e.g. `corosync-cfgtool -s`). */
  readyCheck?: string[];
  /** How long to wait for readiness (default 30 s). */
  readyTimeoutMs?: number;
}

export interface ProcessStatus {
  name: string;
  pid?: number;
  alive: boolean;
  logFile: string;
}

export interface ControllerStatus {
  name: string;
  netns: string;
  address: string;
  anchorPid?: number;
  anchorAlive: boolean;
  stopped: boolean;
  link: 'up' | 'down' | 'missing';
  processes: ProcessStatus[];
}

export interface LabStatus {
  name: string;
  dir: string;
  gatewayAddress: string;
  phase: LabState['phase'];
  controllers: ControllerStatus[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function logTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function tcpAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

async function labNetns(name: string): Promise<string[]> {
  const out = await mustRun('ip', ['netns', 'list']);
  const pattern = new RegExp(`^${name}-(sw|c\\d+)$`);
  return out
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((ns) => pattern.test(ns));
}

export class Lab {
  private constructor(private readonly state: LabState) {}

  get name(): string {
    return this.state.name;
  }
  /** The lab's directory: state.json, anchor.sh, one directory per controller (state + logs). */
  get dir(): string {
    return this.state.dir;
  }
  /** Root-namespace address on the lab network: bind control-plane listeners for agents here. */
  get gatewayAddress(): string {
    return this.state.gatewayAddress;
  }
  get controllers(): readonly Readonly<ControllerRecord>[] {
    return this.state.controllers;
  }

  /** Creates a lab (cleaning a leftover one of the same name first). On failure, `Lab.down` cleans up. */
  static async up(options: LabOptions = {}): Promise<Lab> {
    const name = options.name ?? 'triad';
    const count = options.controllers ?? 3;
    const stateRoot = options.stateRoot ?? DEFAULT_STATE_ROOT;
    if (!/^[a-z][a-z0-9-]{0,11}$/.test(name)) throw new Error(`lab name "${name}": lowercase letters, digits, '-', at most 12`);
    if (!Number.isInteger(count) || count < 1 || count > 16) throw new Error(`controllers must be 1..16, got ${count}`);
    const requested = options.net === 'auto' ? undefined : (options.net ?? (name === 'triad' ? 0 : undefined));
    if (requested !== undefined && (!Number.isInteger(requested) || requested < 0 || requested > 254)) throw new Error(`net must be 0..254, got ${requested}`);
    const dir = labDir(stateRoot, name);

    await Lab.down(name, stateRoot);
    mkdirSync(dir, { recursive: true });
    const net = reserveNet(stateRoot, name, requested);
    const prefix = `${LAB_NETWORK_PREFIX}.${net}`;
    const taken = await mustRun('ip', ['-o', '-4', 'addr', 'show']);
    if (taken.includes(` ${prefix}.`)) throw new Error(`${prefix}.0/24 is already used on this host (another lab?): pick another --net`);

    const state: LabState = {
      name,
      dir,
      net,
      gatewayAddress: `${prefix}.254`,
      gatewayLink: `${name}-gw`,
      switchNetns: `${name}-sw`,
      controllers: Array.from({ length: count }, (_, i) => ({
        name: `controller-${i + 1}`,
        index: i + 1,
        netns: `${name}-c${i + 1}`,
        address: `${prefix}.${i + 1}`,
        dir: join(dir, `controller-${i + 1}`),
        stopped: false,
      })),
      processes: [],
      phase: 'creating',
      createdAt: new Date().toISOString(),
    };
    writeLabState(state);
    const lab = new Lab(state);
    await lab.createNetwork();

    writeFileSync(join(dir, 'anchor.sh'), anchorScript());
    // The spec's `rabbitmq-erlang-cookie` secret reference, resolved for this lab's agents.
    mkdirSync(join(dir, 'secrets'), { mode: 0o700 });
    writeFileSync(join(dir, ERLANG_COOKIE_SECRET), randomBytes(20).toString('hex').toUpperCase(), { mode: 0o400 });
    for (const c of state.controllers) mkdirSync(join(c.dir, 'logs'), { recursive: true });
    lab.writeHostsFiles();
    await Promise.all(state.controllers.map((c) => lab.startAnchor(c)));

    const services = options.services ?? DEFAULT_STANDIN_SERVICES;
    if (services.length > 0) {
      await Promise.all(state.controllers.map((c) => lab.spawnStandin(c.name, services)));
    }
    state.phase = 'up';
    lab.save();
    return lab;
  }

  /**
   * Scale-out: one more controller in this running lab (`controller-<next>`), laid out like the
   * controllers of `up` — its namespace on the lab bridge, private mounts, the stand-ins the first
   * controller runs; MariaDB and RabbitMQ installed but nothing configured or started — and every
   * controller's /etc/hosts knows it. `down` removes it with the rest. Returns its record.
   */
  async add(): Promise<Readonly<ControllerRecord>> {
    if (this.state.phase !== 'up') throw new Error(`lab ${this.name} is ${this.state.phase}, not up`);
    const index = Math.max(0, ...this.state.controllers.map((c) => c.index)) + 1;
    if (index > 16) throw new Error(`lab ${this.name} has ${this.state.controllers.length} controllers, the most a lab holds is 16`);
    const prefix = `${LAB_NETWORK_PREFIX}.${this.state.net}`;
    const c: ControllerRecord = {
      name: `controller-${index}`,
      index,
      netns: `${this.name}-c${index}`,
      address: `${prefix}.${index}`,
      dir: join(this.dir, `controller-${index}`),
      stopped: false,
    };
    // Recorded before anything is created, so `down` removes a half-added controller too.
    this.state.controllers.push(c);
    this.save();
    mkdirSync(join(c.dir, 'logs'), { recursive: true });
    await this.connectController(c);
    this.writeHostsFiles();
    await this.startAnchor(c);
    const services = this.standinServices();
    if (services.length > 0) await this.spawnStandin(c.name, services);
    return c;
  }

  /**
   * Every lab with a directory under `stateRoot`, running or left by a crashed run (test labs are
   * named after their process: `lt<pid>`, `lp<pid>`…); `down` removes one.
   */
  static list(stateRoot = DEFAULT_STATE_ROOT): { name: string; subnet?: string; phase?: LabState['phase']; controllersRunning: number; controllers: number }[] {
    if (!existsSync(stateRoot)) return [];
    return readdirSync(stateRoot, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && entry.name !== 'nets')
      .map((entry) => {
        const state = readLabState(labDir(stateRoot, entry.name));
        return {
          name: entry.name,
          subnet: state && `${LAB_NETWORK_PREFIX}.${state.net}.0/24`,
          phase: state?.phase,
          controllersRunning: state?.controllers.filter((c) => c.anchor && isAlive(c.anchor)).length ?? 0,
          controllers: state?.controllers.length ?? 0,
        };
      });
  }

  /** The lab `up` created, from its state file (any process). */
  static open(name = 'triad', stateRoot = DEFAULT_STATE_ROOT): Lab {
    const state = readLabState(labDir(stateRoot, name));
    if (!state) throw new Error(`no lab "${name}" (no ${labDir(stateRoot, name)}/state.json)`);
    return new Lab(state);
  }

  /**
   * Removes everything a lab (even a half-created one) left: its processes (TERM, then KILL after
   * `timeoutMs`), namespaces with their veths and mounts, the gateway link, its directory.
   * Throws if anything is still there afterwards.
   */
  static async down(name = 'triad', stateRoot = DEFAULT_STATE_ROOT, timeoutMs = 5_000): Promise<void> {
    const dir = labDir(stateRoot, name);
    const state = readLabState(dir);
    const recorded: ProcessRef[] = [
      ...(state?.processes.flatMap((p) => (p.ref ? [p.ref] : [])) ?? []),
      ...(state?.controllers.flatMap((c) => (c.anchor ? [c.anchor] : [])) ?? []),
    ];
    await stopProcesses(recorded, timeoutMs);
    const namespaces = await labNetns(name);
    // Whatever else runs in the controllers (resource agents, daemons they forked), or still
    // uses the lab's files.
    await stopProcesses(namespaces.flatMap(processesInNetns), timeoutMs);
    await stopProcesses(processesMentioning(`${dir}/`), timeoutMs);
    for (const ns of namespaces) await run('ip', ['netns', 'delete', ns]);
    const gatewayLink = state?.gatewayLink ?? `${name}-gw`;
    // Usually gone with the switch namespace already (a veth pair dies with either end).
    await run('ip', ['link', 'delete', gatewayLink]);
    rmSync(dir, { recursive: true, force: true });
    releaseNets(stateRoot, name);

    const left: string[] = [
      ...(await labNetns(name)).map((ns) => `namespace ${ns}`),
      ...((await run('ip', ['link', 'show', gatewayLink])).code === 0 ? [`link ${gatewayLink}`] : []),
      ...processesMentioning(`${dir}/`).map((p) => `process ${p.pid}`),
      ...(existsSync(dir) ? [`directory ${dir}`] : []),
    ];
    if (left.length > 0) throw new Error(`lab ${name}: could not remove ${left.join(', ')}`);
  }

  async down(): Promise<void> {
    await Lab.down(this.state.name, resolve(this.state.dir, '..'));
  }

  /** Accepts `controller-2`, `c2` or `2`. */
  controller(node: string): Readonly<ControllerRecord> {
    const index = /^(?:controller-|c)?(\d+)$/.exec(node)?.[1];
    const found = this.state.controllers.find((c) => c.name === node || String(c.index) === index);
    if (!found) throw new Error(`no controller "${node}" in lab ${this.name} (${this.state.controllers.map((c) => c.name).join(', ')})`);
    return found;
  }

  /** Runs a command inside a controller (its network, mounts and hostname) and waits for it. */
  async exec(node: string, argv: string[], opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    const [command = 'nsenter', ...args] = this.enterCommand(node, argv, opts.cwd);
    return run(command, args, {
      timeoutMs: opts.timeoutMs,
      env: { ...process.env, ...opts.env },
    });
  }

  /**
   * Where a file a controller sees at `path` lives on the host — only for paths under the per-node
   * directories the anchor mounts (so nothing of the host is ever touched through it).
   */
  hostPath(node: string, path: string): string {
    const c = this.controller(node);
    const mount = NODE_MOUNTS.find((m) => path === m.target || path.startsWith(`${m.target}/`));
    if (!mount || path.split('/').includes('..')) throw new Error(`${path} is not in a per-controller directory (${NODE_MOUNTS.map((m) => m.target).join(', ')})`);
    return join(c.dir, 'root', path);
  }

  /**
   * Writes a file a controller sees at `path`, replacing (never following) what is there: the
   * per-node copies of /etc directories may hold symlinks into the host's /etc.
   */
  writeFile(node: string, path: string, content: string, mode = 0o644): void {
    const file = this.hostPath(node, path);
    rmSync(file, { force: true });
    writeFileSync(file, content, { mode });
  }

  /** The argv that runs `argv` inside a controller: nsenter into its anchor's namespaces. */
  enterCommand(node: string, argv: string[], cwd = '/'): string[] {
    const anchor = this.liveAnchor(node);
    return ['nsenter', '-t', String(anchor.pid), '-m', '-n', '-u', `--wd=${cwd}`, '--', ...argv];
  }

  /**
   * Starts a long-running process inside a controller, supervised by the lab: output to
   * `<controller dir>/logs/<name>.log`, pid in the state file (so `down`, `kill` and `stop` work
   * from any process), started again by `start NODE`.
   */
  async spawn(node: string, name: string, argv: string[], opts: SpawnOptions = {}): Promise<ProcessStatus> {
    const c = this.controller(node);
    if (!/^[a-zA-Z0-9_.-]+$/.test(name)) throw new Error(`process name "${name}": letters, digits, _ . -`);
    const existing = this.state.processes.find((p) => p.node === c.name && p.name === name);
    if (existing?.ref && isAlive(existing.ref)) throw new Error(`${name} already runs on ${c.name} (pid ${existing.ref.pid})`);
    const record: SupervisedRecord = {
      node: c.name,
      name,
      argv,
      env: opts.env ?? {},
      cwd: opts.cwd ?? REPO_ROOT,
      logFile: join(c.dir, 'logs', `${name}.log`),
      readyPorts: opts.readyPorts ?? [],
      readyCheck: opts.readyCheck,
    };
    this.state.processes = [...this.state.processes.filter((p) => p !== existing), record];
    await this.launch(c, record, opts.readyTimeoutMs);
    return this.processStatus(record);
  }

  /**
   * The Triad agent inside a controller, supervised like any lab process (log
   * `<controller dir>/logs/agent.log`, restarted by `start`). Defaults: node name = the
   * controller's name, state in LAB_AGENT_STATE_DIR (per controller, kept across stop/start), and
   * what this host is like: HAProxy rendered with LAB_HOST_PROFILE's master socket, maxconn and no
   * syslog (so what the agent renders is what runs), the cluster stack started and stopped by
   * LAB_CLUSTER_STACK_SCRIPT, the Erlang cookie from the lab's secret store. `env` adds the rest —
   * TRIAD_CONTROL_PLANE (`<gateway>:<port>`), the enrollment token, components and modes.
   * The env is kept in the lab's state file to restart the agent, token included (the agent ignores
   * it once enrolled).
   */
  spawnAgent(node: string, env: Record<string, string>): Promise<ProcessStatus> {
    const haproxy = LAB_HOST_PROFILE.haproxy;
    return this.spawn(node, 'agent', [process.execPath, '-r', require.resolve('@swc-node/register'), join(REPO_ROOT, 'apps/agent/src/main.ts')], {
      env: {
        ...TS_ENV,
        TRIAD_NODE_NAME: this.controller(node).name,
        TRIAD_STATE_DIR: LAB_AGENT_STATE_DIR,
        ...(haproxy.masterSocket ? { TRIAD_HAPROXY_MASTER_SOCKET: haproxy.masterSocket } : {}),
        ...(haproxy.maxconn ? { TRIAD_HAPROXY_MAXCONN: String(haproxy.maxconn) } : {}),
        TRIAD_HAPROXY_LOG_TARGET: haproxy.logTarget ?? 'none',
        TRIAD_CLUSTER_STACK_START: JSON.stringify([[LAB_CLUSTER_STACK_SCRIPT, 'start']]),
        TRIAD_CLUSTER_STACK_STOP: JSON.stringify([[LAB_CLUSTER_STACK_SCRIPT, 'stop']]),
        TRIAD_RABBITMQ_COOKIE_FILE: join(this.dir, ERLANG_COOKIE_SECRET),
        ...env,
      },
      cwd: REPO_ROOT,
    });
  }

  /**
   * kill -9 of a supervised process by name (`standin`, `corosync`…) or else of every process with
   * that process name (`comm`: mariadbd, beam.smp, haproxy…) inside the controller. Returns the pids.
   */
  async kill(node: string, component: string): Promise<number[]> {
    const c = this.controller(node);
    const supervised = this.state.processes.find((p) => p.node === c.name && p.name === component);
    if (supervised?.ref && isAlive(supervised.ref)) {
      const ref = supervised.ref;
      // A supervised process leads its own process group: what it forked goes with it.
      try {
        process.kill(-ref.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
      await stopProcesses([ref], 0, 'SIGKILL');
      return [ref.pid];
    }
    const matches = processesInNetns(c.netns).filter((p) => p.comm === component);
    if (matches.length === 0) throw new Error(`no process "${component}" runs in ${c.name}`);
    await stopProcesses(matches, 0, 'SIGKILL');
    return matches.map((p) => p.pid);
  }

  /** Unplugs the controller's network cable. */
  async cut(node: string): Promise<void> {
    await mustRun('ip', ['-n', this.controller(node).netns, 'link', 'set', 'eth0', 'down']);
  }

  async heal(node: string): Promise<void> {
    await mustRun('ip', ['-n', this.controller(node).netns, 'link', 'set', 'eth0', 'up']);
  }

  /** Powers the controller off: link down, every process in it killed (-9, like a power cut). */
  async stop(node: string): Promise<void> {
    const c = this.mutableController(node);
    c.stopped = true;
    this.save();
    await this.cut(c.name);
    await stopProcesses(processesInNetns(c.netns), 0, 'SIGKILL');
  }

  /** Powers it on again: fresh /run, same state directories, its supervised processes restarted. */
  async start(node: string): Promise<void> {
    const c = this.mutableController(node);
    if (c.anchor && isAlive(c.anchor)) throw new Error(`${c.name} is running; stop it first`);
    await this.heal(c.name);
    await this.startAnchor(c);
    c.stopped = false;
    this.save();
    // Boot: a controller whose cluster stack a Triad agent configured starts it (systemd's enabled
    // corosync/pacemaker units on a real one); one run by `startClusterStack` restarts below.
    const supervisedStack = this.state.processes.some((p) => p.node === c.name && p.name === 'corosync');
    if (!supervisedStack && existsSync(this.hostPath(c.name, LAB_STACK_ENABLED))) {
      const r = await this.exec(c.name, [LAB_CLUSTER_STACK_SCRIPT, 'start'], { timeoutMs: 60_000 });
      if (r.code !== 0) throw new Error(`${c.name}: the cluster stack did not start: ${r.stderr || r.stdout}`);
    }
    // In the order they were first started: pacemakerd needs corosync, an agent may need both.
    for (const p of this.state.processes.filter((p) => p.node === c.name)) await this.launch(c, p);
  }

  async status(): Promise<LabStatus> {
    const controllers: ControllerStatus[] = [];
    for (const c of this.state.controllers) {
      const link = await run('ip', ['-n', c.netns, '-o', 'link', 'show', 'eth0']);
      const flags = /<([^>]*)>/.exec(link.stdout)?.[1]?.split(',') ?? [];
      controllers.push({
        name: c.name,
        netns: c.netns,
        address: c.address,
        anchorPid: c.anchor?.pid,
        anchorAlive: c.anchor !== undefined && isAlive(c.anchor),
        stopped: c.stopped,
        link: link.code !== 0 ? 'missing' : flags.includes('UP') ? 'up' : 'down',
        processes: this.state.processes.filter((p) => p.node === c.name).map((p) => this.processStatus(p)),
      });
    }
    return { name: this.name, dir: this.dir, gatewayAddress: this.gatewayAddress, phase: this.state.phase, controllers };
  }

  private processStatus(p: SupervisedRecord): ProcessStatus {
    return { name: p.name, pid: p.ref?.pid, alive: p.ref !== undefined && isAlive(p.ref), logFile: p.logFile };
  }

  private mutableController(node: string): ControllerRecord {
    return this.controller(node) as ControllerRecord;
  }

  private liveAnchor(node: string): ProcessRef {
    const c = this.controller(node);
    if (!c.anchor || !isAlive(c.anchor)) throw new Error(`${c.name} is not running${c.stopped ? ' (stopped)' : ''}`);
    return c.anchor;
  }

  private save(): void {
    writeLabState(this.state);
  }

  private async createNetwork(): Promise<void> {
    const { switchNetns: sw, gatewayLink, gatewayAddress } = this.state;
    const ip = (...args: string[]) => mustRun('ip', args);
    await ip('netns', 'add', sw);
    await ip('-n', sw, 'link', 'set', 'lo', 'up');
    await ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', sw, 'link', 'set', 'br0', 'up');
    for (const c of this.state.controllers) await this.connectController(c);
    await ip('link', 'add', gatewayLink, 'type', 'veth', 'peer', 'name', 'gw', 'netns', sw);
    await ip('-n', sw, 'link', 'set', 'gw', 'master', 'br0', 'up');
    await ip('addr', 'add', `${gatewayAddress}/24`, 'dev', gatewayLink);
    await ip('link', 'set', gatewayLink, 'up');
  }

  /** The controller's namespace, plugged into the lab bridge with its address on eth0. */
  private async connectController(c: ControllerRecord): Promise<void> {
    const ip = (...args: string[]) => mustRun('ip', args);
    const sw = this.state.switchNetns;
    const port = `sw-c${c.index}`;
    await ip('netns', 'add', c.netns);
    await ip('link', 'add', 'eth0', 'netns', c.netns, 'type', 'veth', 'peer', 'name', port, 'netns', sw);
    await ip('-n', sw, 'link', 'set', port, 'master', 'br0', 'up');
    await ip('-n', c.netns, 'link', 'set', 'lo', 'up');
    await ip('-n', c.netns, 'addr', 'add', `${c.address}/24`, 'dev', 'eth0');
    await ip('-n', c.netns, 'link', 'set', 'eth0', 'up');
  }

  /**
   * Each controller's /etc/hosts (bind-mounted by its anchor): every controller and the gateway.
   * Rewritten in place, so running controllers see a controller that was added.
   */
  private writeHostsFiles(): void {
    const hosts = ['127.0.0.1 localhost', ...this.state.controllers.map((c) => `${c.address} ${c.name}`), `${this.state.gatewayAddress} lab-gateway`];
    for (const c of this.state.controllers) writeFileSync(join(c.dir, 'hosts'), hosts.join('\n') + '\n');
  }

  /** The stand-ins the lab's controllers run (read from the first one's supervised record). */
  private standinServices(): StandinService[] {
    const standin = this.state.processes.find((p) => p.name === 'standin');
    if (!standin) return [];
    return standin.argv.flatMap((arg, i) => {
      const m = standin.argv[i - 1] === '--listen' ? /^([a-z0-9-]+)=.*:(\d+)$/.exec(arg) : null;
      return m ? [{ name: m[1], port: Number(m[2]) }] : [];
    });
  }

  private spawnDetached([command = '', ...args]: string[], logFile: string, env: Record<string, string>, cwd: string): ProcessRef {
    const fd = openSync(logFile, 'a');
    try {
      // Detached: its own process group, and it outlives the CLI that started it.
      const child = spawnChild(command, args, { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, ...env }, cwd });
      child.on('error', () => undefined);
      child.unref();
      const ref = child.pid === undefined ? undefined : processRef(child.pid);
      if (!ref) throw new Error(`could not start ${command}: ${logTail(logFile)}`);
      return ref;
    } finally {
      closeSync(fd);
    }
  }

  private async startAnchor(c: ControllerRecord): Promise<void> {
    const ready = join(c.dir, 'anchor.ready');
    rmSync(ready, { force: true });
    const log = join(c.dir, 'logs', 'anchor.log');
    c.anchor = this.spawnDetached(
      ['ip', 'netns', 'exec', c.netns, 'unshare', '--mount', '--uts', '--propagation', 'private', '/bin/sh', join(this.dir, 'anchor.sh'), c.dir, c.name],
      log,
      {},
      '/',
    );
    this.save();
    const deadline = Date.now() + 20_000;
    while (!existsSync(ready)) {
      if (!isAlive(c.anchor)) throw new Error(`anchor of ${c.name} exited: ${logTail(log)}`);
      if (Date.now() > deadline) throw new Error(`anchor of ${c.name} not ready after 20 s: ${logTail(log)}`);
      await sleep(20);
    }
  }

  private async launch(c: ControllerRecord, record: SupervisedRecord, readyTimeoutMs = 30_000): Promise<void> {
    record.ref = this.spawnDetached(
      this.enterCommand(c.name, record.argv, record.cwd),
      record.logFile,
      record.env,
      '/',
    );
    this.save();
    const ref = record.ref;
    const deadline = Date.now() + readyTimeoutMs;
    // Returned = the command runs inside the controller (nsenter has exec'd it).
    while (isAlive(ref) && processComm(ref.pid) === 'nsenter' && Date.now() < deadline) await sleep(10);
    const waitFor = async (what: string, ready: () => Promise<boolean>) => {
      while (!(await ready())) {
        if (!isAlive(ref)) throw new Error(`${record.name} on ${c.name} exited: ${logTail(record.logFile)}`);
        if (Date.now() > deadline) throw new Error(`${record.name} on ${c.name}: ${what} after ${readyTimeoutMs} ms`);
        await sleep(100);
      }
    };
    for (const port of record.readyPorts) await waitFor(`port ${port} not answering`, () => tcpAnswers(c.address, port));
    const check = record.readyCheck;
    if (check) await waitFor(`${check.join(' ')} still failing`, async () => (await this.exec(c.name, check)).code === 0);
  }

  private spawnStandin(node: string, services: StandinService[]): Promise<ProcessStatus> {
    const c = this.controller(node);
    return this.spawn(
      c.name,
      'standin',
      [
        process.execPath,
        '-r',
        require.resolve('@swc-node/register'),
        STANDIN_SCRIPT,
        '--node',
        c.name,
        ...services.flatMap((s) => ['--listen', `${s.name}=${c.address}:${s.port}`]),
      ],
      { env: TS_ENV, cwd: REPO_ROOT, readyPorts: services.map((s) => s.port) },
    );
  }
}
