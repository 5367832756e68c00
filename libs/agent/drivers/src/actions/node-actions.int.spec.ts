import { once } from 'node:events';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActionRefusedError, sleep, type CommandResult } from '@triad/agent-core';
import { createLogger } from '@triad/logging';
import type { RunActionParams } from '@triad/protocol';
import { DEFAULT_HOST_PROFILE, renderGaleraCnf, type HostProfile } from '@triad/render';
import { galeraNodePaths, labClusterSpec, labLoopbackAddresses, startGaleraCluster, type GaleraCluster } from '@triad/testing';
import { GaleraDriver } from '../galera/galera.driver';
import { NodeActions } from './node-actions';

const logger = createLogger('node-actions-test', { level: 'silent' });
const clusterId = '00000000-0000-4000-8000-000000000001';

/**
 * The Galera actions of run_action against three real mariadbd nodes (the Galera harness): what
 * remediation's full-outage election does, step by step, through NodeActions exactly as the
 * agent runs them. Heavy: run under `flock /tmp/triad-heavy.lock`.
 */
describe(`${NodeActions.name} (Galera)`, () => {
  jest.setTimeout(600_000);
  const addresses = labLoopbackAddresses(3);
  const names = ['controller-1', 'controller-2', 'controller-3'];
  const baseDir = mkdtempSync(join(tmpdir(), 'triad-node-actions-'));
  const profile = (name: string): HostProfile => {
    const p = galeraNodePaths(baseDir, name);
    return { ...DEFAULT_HOST_PROFILE, galera: { ...DEFAULT_HOST_PROFILE.galera, configPath: p.configFile, dataDir: p.datadir, socket: p.socket, pidFile: p.pidFile, logFile: p.errorLog, innodbBufferPoolSize: '32M' } };
  };
  const spec = labClusterSpec({ addresses, galera: { clusterName: 'actions-galera', gcacheSize: '32M', evs: { suspectTimeoutMs: 3500, inactiveTimeoutMs: 7000 } } });
  let cluster: GaleraCluster | undefined;
  const drivers: Record<string, GaleraDriver> = {};
  const actions: Record<string, NodeActions> = {};

  const run = (node: string, action: RunActionParams['action'], args: Record<string, unknown> = {}): Promise<CommandResult> =>
    actions[node].run({ clusterId, nodeName: node, action, args } as RunActionParams, logger);
  const refusal = async (p: Promise<unknown>): Promise<ActionRefusedError> => {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    if (!(e instanceof ActionRefusedError)) throw new Error(`expected a refusal, got ${e instanceof Error ? e.message : 'success'}`);
    return e;
  };
  const count = async (node: string) => Number((await drivers[node].server.query('SET SESSION wsrep_sync_wait = 1; SELECT COUNT(*) FROM act.t'))[0]?.[0]);
  const killAll = async (nodes: string[]) => {
    const pids: number[] = [];
    for (const n of nodes) {
      const pid = await drivers[n].server.pid();
      if (pid) process.kill(pid, 'SIGKILL');
      if (pid) pids.push(pid);
    }
    // Gone, not only a zombie leader: its other threads hold the Galera port until the last exits
    // (the actions rightly refuse to touch a datadir while something listens there).
    const deadline = Date.now() + 20_000;
    for (const pid of pids) while (existsSync(`/proc/${pid}`) && Date.now() < deadline) await sleep(50);
  };

  beforeAll(async () => {
    cluster = await startGaleraCluster({ configs: Object.fromEntries(names.map((n) => [n, renderGaleraCnf(spec, n, profile(n)).content])), baseDir });
    for (const n of names) {
      drivers[n] = new GaleraDriver({ mode: 'managed', configFile: galeraNodePaths(baseDir, n).configFile, consoleLogFile: join(galeraNodePaths(baseDir, n).dir, 'driver-console.log'), logger, syncTimeoutMs: 120_000 });
      actions[n] = new NodeActions({ galera: drivers[n], peerProbeTimeoutMs: 500 });
    }
  });

  afterAll(async () => {
    await Promise.all(Object.values(drivers).map((d) => d.stopServer({ killAfterMs: 20_000 }).catch(() => undefined)));
    await cluster?.stop();
  });

  it('reports the position of a running member, and does nothing when asked to join or bootstrap a member already in the Primary component', async () => {
    await drivers['controller-1'].server.query('CREATE DATABASE act; CREATE TABLE act.t (id INT PRIMARY KEY, at VARCHAR(20))');
    const r = await run('controller-2', 'galera.report_position');
    expect(r.result).toMatchObject({ running: true, clusterStatus: 'Primary', localState: 'Synced', seqno: expect.any(Number) });
    expect(r.result?.seqno).toBeGreaterThan(0);

    const pid = await drivers['controller-2'].server.pid();
    expect((await run('controller-2', 'galera.join')).result).toMatchObject({ joined: false, clusterSize: 3 });
    expect((await run('controller-2', 'galera.bootstrap')).result).toMatchObject({ bootstrapped: false, running: true });
    expect(await drivers['controller-2'].server.pid()).toBe(pid);
  });

  it('refuses to bootstrap a stopped member while another member runs, and rejoins it instead', async () => {
    expect(await drivers['controller-3'].stopServer()).toBe(true);
    const refused = await refusal(run('controller-3', 'galera.bootstrap', { force: true }));
    expect(refused.message).toContain(`${addresses[0]}:4567`);
    expect(await drivers['controller-3'].server.pid()).toBeUndefined();

    // Something already listens on its own Galera port (a joiner a resource agent started, no pid
    // file yet): neither its position is read from disk nor is it started again.
    const squatter = createServer().listen(4567, addresses[2]);
    await once(squatter, 'listening');
    try {
      expect((await refusal(run('controller-3', 'galera.report_position'))).message).toContain(`listens on this node's Galera port ${addresses[2]}:4567`);
      expect((await refusal(run('controller-3', 'galera.join'))).message).toContain('a start or join in progress');
    } finally {
      squatter.close();
    }

    const stopped = await run('controller-3', 'galera.report_position');
    // A clean stop writes the position to grastate.dat.
    expect(stopped.result).toMatchObject({ running: false, source: 'grastate.dat', safeToBootstrap: false });
    const started = Date.now();
    expect((await run('controller-3', 'galera.join')).result).toMatchObject({ joined: true, clusterSize: 3 });
    console.info(`galera.join of a cleanly stopped member: ${Date.now() - started} ms`);
  });

  it('after every mariadbd is killed with one member behind: reports recovered positions, refuses an unforced bootstrap, bootstraps the most advanced and joins the others without losing a row', async () => {
    // controller-3 leaves first and misses the last writes.
    await drivers['controller-1'].server.query("INSERT INTO act.t VALUES (1, 'all'), (2, 'all')");
    await drivers['controller-3'].stopServer();
    await drivers['controller-1'].server.query("INSERT INTO act.t VALUES (3, 'two'), (4, 'two'), (5, 'two')");
    await killAll(['controller-1', 'controller-2']);

    const t0 = Date.now();
    const positions: Record<string, Record<string, unknown>> = {};
    for (const n of names) positions[n] = (await run(n, 'galera.report_position')).result ?? {};
    console.info(`galera.report_position on 3 stopped members: ${Date.now() - t0} ms`, positions);
    for (const n of ['controller-1', 'controller-2']) expect(positions[n]).toMatchObject({ running: false, source: 'mariadbd --wsrep-recover', safeToBootstrap: false });
    expect(positions['controller-3']).toMatchObject({ running: false, source: 'grastate.dat' });
    expect(positions['controller-3'].uuid).toBe(positions['controller-1'].uuid);
    expect(Number(positions['controller-3'].seqno)).toBeLessThan(Number(positions['controller-1'].seqno));

    // The election remediation runs: safe_to_bootstrap nowhere, so the highest seqno wins.
    const winner = [...names].sort((a, b) => Number(positions[b].seqno) - Number(positions[a].seqno))[0];
    expect(winner).not.toBe('controller-3');
    const refused = await refusal(run(winner, 'galera.bootstrap'));
    expect(refused.message).toContain('safe_to_bootstrap: 0');
    expect(await drivers[winner].server.pid()).toBeUndefined();

    const t1 = Date.now();
    const boot = await run(winner, 'galera.bootstrap', { force: true });
    expect(boot.result).toMatchObject({ bootstrapped: true, forced: true, uuid: positions[winner].uuid });
    // Galera counts the new primary component as one more event after the recovered position.
    expect(Number(boot.result?.seqno)).toBeGreaterThanOrEqual(Number(positions[winner].seqno));
    for (const n of names.filter((x) => x !== winner)) expect((await run(n, 'galera.join')).result).toMatchObject({ joined: true });
    console.info(`galera full outage: bootstrap(force) + 2 joins: ${Date.now() - t1} ms`);
    for (const n of names) expect(await count(n)).toBe(5);
  });
});
