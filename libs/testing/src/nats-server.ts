import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAccount, createOperator, createUser, encodeAccount, encodeOperator, encodeUser } from '@nats-io/jwt';
import { freePort, waitFor } from './processes';

export const NATS_SERVER_BIN = '/usr/sbin/nats-server';

/** A user of the application account allowed everything: what the control plane connects as. */
export interface NatsCreds {
  jwt: string;
  seed: string;
}

export interface TestNatsServer {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** Process id of the running nats-server (undefined while stopped). */
  readonly pid: number | undefined;
  /** Operator mode only. */
  readonly controlPlaneCreds?: NatsCreds;
  /** Operator mode only: seed of a signing key of the application account (mints agent users). */
  readonly accountSigningSeed?: string;
  /** Operator mode only: public key of the application account (issuer_account of agent users). */
  readonly accountPublicKey?: string;
  /** Stops and starts nats-server again on the same port with the same JetStream store. */
  restart(): Promise<void>;
  /** Stops nats-server but keeps port and store, for tests of an outage; `up()` starts it again. */
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartNatsOptions {
  jetstream?: boolean;
  /** Decentralized JWT auth (operator / account / user JWTs, MEMORY resolver). */
  operatorMode?: boolean;
  /** Address the client listener binds (default 127.0.0.1); a lab's gateway lets its agents in. */
  host?: string;
}

/**
 * Account limits must all be explicit: an account JWT without them gets zero JetStream and
 * nats-server 2.9 refuses streams (and, without conn, connections).
 */
const UNLIMITED_ACCOUNT = {
  subs: -1,
  data: -1,
  payload: -1,
  imports: -1,
  exports: -1,
  wildcards: true,
  conn: -1,
  leaf: -1,
  mem_storage: -1,
  disk_storage: -1,
  streams: -1,
  consumer: -1,
  max_ack_pending: -1,
  mem_max_stream_bytes: -1,
  disk_max_stream_bytes: -1,
};

export interface OperatorSetup {
  config: string;
  controlPlaneCreds: NatsCreds;
  accountSigningSeed: string;
  accountPublicKey: string;
}

/** Operator, system and application accounts for JWT auth, and a full-permission control-plane user. */
export async function operatorSetup(): Promise<OperatorSetup> {
  const operator = createOperator();
  const system = createAccount();
  const account = createAccount();
  const signing = createAccount();
  const operatorJwt = await encodeOperator('triad-test', operator, { system_account: system.getPublicKey() });
  const systemJwt = await encodeAccount('SYS', system, { limits: { conn: -1, subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, leaf: -1 } }, { signer: operator });
  const accountJwt = await encodeAccount(
    'TRIAD',
    account,
    { limits: UNLIMITED_ACCOUNT, signing_keys: [signing.getPublicKey()] },
    { signer: operator },
  );
  const cpUser = createUser();
  const cpJwt = await encodeUser('control-plane', cpUser, account);
  const dec = new TextDecoder();
  return {
    config: [
      `operator: ${operatorJwt}`,
      `system_account: ${system.getPublicKey()}`,
      'resolver: MEMORY',
      'resolver_preload: {',
      `  ${system.getPublicKey()}: ${systemJwt}`,
      `  ${account.getPublicKey()}: ${accountJwt}`,
      '}',
    ].join('\n'),
    controlPlaneCreds: { jwt: cpJwt, seed: dec.decode(cpUser.getSeed()) },
    accountSigningSeed: dec.decode(signing.getSeed()),
    accountPublicKey: account.getPublicKey(),
  };
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Never leave a nats-server behind, even when a test run aborts without calling stop(). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

async function healthy(monitorPort: number): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${monitorPort}/healthz?js-enabled-only=true`);
  return res.ok;
}

/** A private nats-server (2.9) on a free loopback port with its own store directory. */
export async function startNatsServer(options: StartNatsOptions = {}): Promise<TestNatsServer> {
  installExitHook();
  const host = options.host ?? '127.0.0.1';
  const port = await freePort(host);
  const monitorPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'triad-nats-'));
  const storeDir = join(dir, 'jetstream');
  const op = options.operatorMode ? await operatorSetup() : undefined;
  const configFile = join(dir, 'nats.conf');
  writeFileSync(
    configFile,
    [
      `host: ${host}`,
      `port: ${port}`,
      `http: 127.0.0.1:${monitorPort}`,
      options.jetstream ? `jetstream { store_dir: "${storeDir}", max_memory_store: 64MB, max_file_store: 1GB }` : '',
      op?.config ?? '',
    ].join('\n'),
  );

  let child: ChildProcess | undefined;
  let output = '';

  async function launch(): Promise<void> {
    output = '';
    const proc = spawn(NATS_SERVER_BIN, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    running.add(proc);
    proc.stdout?.on('data', (b: Buffer) => (output += b.toString()));
    proc.stderr?.on('data', (b: Buffer) => (output += b.toString()));
    proc.once('exit', () => running.delete(proc));
    try {
      await waitFor('nats-server healthz', () => proc.exitCode === null && healthy(monitorPort), 15_000, 50);
    } catch (e) {
      await halt();
      throw new Error(`nats-server did not become healthy: ${String(e)}\n${output}`);
    }
  }

  async function halt(): Promise<void> {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  await launch();
  return {
    url: `nats://${host}:${port}`,
    port,
    storeDir,
    get pid() {
      return child?.pid;
    },
    controlPlaneCreds: op?.controlPlaneCreds,
    accountSigningSeed: op?.accountSigningSeed,
    accountPublicKey: op?.accountPublicKey,
    down: () => halt(),
    up: () => launch(),
    async restart() {
      await halt();
      await launch();
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
