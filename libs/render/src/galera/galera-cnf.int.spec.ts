import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterSpec } from '@triad/spec';
import { galeraNodePaths, labClusterSpec, labLoopbackAddresses, startGaleraCluster, type GaleraCluster } from '@triad/testing';
import { DEFAULT_HOST_PROFILE, type HostProfile } from '../host-profile';
import { renderGaleraCnf } from './galera-cnf.renderer';

/** The host profile of a lab node: its files under the cluster's base directory, a small buffer pool. */
function labProfile(baseDir: string, nodeName: string): HostProfile {
  const paths = galeraNodePaths(baseDir, nodeName);
  return {
    ...DEFAULT_HOST_PROFILE,
    galera: {
      ...DEFAULT_HOST_PROFILE.galera,
      dataDir: paths.datadir,
      socket: paths.socket,
      pidFile: paths.pidFile,
      logFile: paths.errorLog,
      sstAuthFile: sstAuthFile(baseDir, nodeName),
      innodbBufferPoolSize: '32M',
    },
  };
}

function sstAuthFile(baseDir: string, nodeName: string): string {
  return join(galeraNodePaths(baseDir, nodeName).dir, 'sst-auth.cnf');
}

function renderAll(spec: ClusterSpec, baseDir: string): Record<string, string> {
  return Object.fromEntries(spec.topology.nodes.map((n) => [n.name, renderGaleraCnf(spec, n.name, labProfile(baseDir, n.name)).content]));
}

describe('rendered galera.cnf on real MariaDB 10.11 + Galera 4', () => {
  jest.setTimeout(180_000);
  let cluster: GaleraCluster | undefined;

  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('forms a 3-node Galera cluster that replicates a row written on one node to the others', async () => {
    // evs timeouts too: Galera refuses values that clash with its other defaults at start.
    const spec = labClusterSpec({ addresses: labLoopbackAddresses(3), galera: { clusterName: 'lab-galera', gcacheSize: '32M', evs: { suspectTimeoutMs: 3500, inactiveTimeoutMs: 7000 } } });
    const baseDir = mkdtempSync(join(tmpdir(), 'triad-galera-'));
    cluster = await startGaleraCluster({ configs: renderAll(spec, baseDir), baseDir });
    // The figure the closing note quotes.
    console.info(`galera: 3 nodes Synced in ${cluster.formedInMs} ms`, cluster.milestones);

    for (const node of cluster.nodes) {
      const s = await node.wsrepStatus();
      expect(s).toMatchObject({ wsrep_cluster_size: '3', wsrep_local_state_comment: 'Synced', wsrep_cluster_status: 'Primary' });
      expect((await node.query('SELECT @@wsrep_provider_options'))[0][0]).toContain('evs.suspect_timeout = PT3.5S');
      // The node really runs the rendered identity and address.
      expect(await node.query("SELECT @@wsrep_node_name, @@wsrep_cluster_name, @@bind_address")).toEqual([
        [node.name, 'lab-galera', spec.topology.nodes.find((n) => n.name === node.name)?.internalAddress],
      ]);
    }

    const [first, second, third] = cluster.nodes;
    await first.query('CREATE DATABASE triad_lab; CREATE TABLE triad_lab.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(32)); INSERT INTO triad_lab.t (v) VALUES ("written on controller-1")');
    // Galera replication is synchronous: a read after commit on another node sees the row
    // once the applier has run it (wsrep_sync_wait makes the read wait for that).
    for (const node of [second, third]) {
      expect(await node.query('SET SESSION wsrep_sync_wait = 1; SELECT v FROM triad_lab.t')).toEqual([['written on controller-1']]);
    }
    await third.query('INSERT INTO triad_lab.t (v) VALUES ("written on controller-3")');
    expect(await first.query('SET SESSION wsrep_sync_wait = 1; SELECT COUNT(*) FROM triad_lab.t')).toEqual([['2']]);
  });

  it('joins nodes by mariabackup SST with the credentials file the agent writes, not the rendered file', async () => {
    const spec = labClusterSpec({
      addresses: labLoopbackAddresses(3),
      galera: { clusterName: 'lab-galera-mb', gcacheSize: '32M', sstMethod: 'mariabackup', sstPassword: { secretRef: 'galera-sst' } },
    });
    const baseDir = mkdtempSync(join(tmpdir(), 'triad-galera-'));
    const configs = renderAll(spec, baseDir);
    const password = 'sst-secret-from-the-node';
    for (const cnf of Object.values(configs)) expect(cnf).not.toContain(password);
    // What the agent does with the resolved secret reference.
    for (const node of spec.topology.nodes) {
      mkdirSync(galeraNodePaths(baseDir, node.name).dir, { recursive: true });
      writeFileSync(sstAuthFile(baseDir, node.name), `[galera]\nwsrep_sst_auth = triad_sst:${password}\n`, { mode: 0o600 });
    }
    cluster = await startGaleraCluster({
      configs,
      baseDir,
      afterBootstrap: async (node) => {
        await node.query(`CREATE USER 'triad_sst'@'localhost' IDENTIFIED BY '${password}'; GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR ON *.* TO 'triad_sst'@'localhost'`);
      },
    });
    console.info(`galera (mariabackup SST): 3 nodes Synced in ${cluster.formedInMs} ms`, cluster.milestones);
    for (const node of cluster.nodes) {
      expect(await node.query('SELECT @@wsrep_sst_method')).toEqual([['mariabackup']]);
      expect((await node.wsrepStatus()).wsrep_cluster_size).toBe('3');
    }
    // The joiners' data came from the donor: the SST user exists on the last joiner too.
    expect(await cluster.nodes[2].query("SELECT user FROM mysql.user WHERE user = 'triad_sst'")).toEqual([['triad_sst']]);
  });
});
