import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { galeraNodePaths, startGaleraCluster } from './galera-cluster';
import { runTool } from './process-group';

/** PIDs of processes whose command line mentions `dir` (read-only look-up, to prove nothing is left). */
async function processesUsing(dir: string): Promise<string> {
  return runTool('/usr/bin/pgrep', ['-af', dir]).catch(() => '');
}

function minimalCnf(baseDir: string, name: string, address: string, provider: string): string {
  const p = galeraNodePaths(baseDir, name);
  return [
    '[mysqld]',
    `bind-address = ${address}`,
    `datadir = ${p.datadir}`,
    `socket = ${p.socket}`,
    'innodb_buffer_pool_size = 16M',
    'binlog_format = ROW',
    'innodb_autoinc_lock_mode = 2',
    '[galera]',
    'wsrep_on = ON',
    `wsrep_provider = ${provider}`,
    `wsrep_cluster_address = gcomm://${address}:4567`,
    `wsrep_node_address = ${address}`,
    `wsrep_provider_options = "gmcast.listen_addr=tcp://${address}:4567;gcache.size=16M"`,
    '',
  ].join('\n');
}

describe(startGaleraCluster.name, () => {
  jest.setTimeout(120_000);

  it('stops what it started and removes its directory when a node cannot start', async () => {
    const baseDir = mkdtempSync(join(tmpdir(), 'triad-galera-fail-'));
    const address = `127.${100 + Math.floor(Math.random() * 150)}.${Math.floor(Math.random() * 250)}.21`;
    const configs = {
      good: minimalCnf(baseDir, 'good', address, '/usr/lib/galera/libgalera_smm.so'),
      broken: minimalCnf(baseDir, 'broken', address.replace(/\.21$/, '.22'), '/nonexistent/libgalera.so'),
    };
    await expect(startGaleraCluster({ configs, baseDir, nodeTimeoutMs: 30_000 })).rejects.toThrow(/Galera cluster did not form: mariadbd broken exited/);
    expect(await processesUsing(baseDir)).toBe('');
    expect(existsSync(baseDir)).toBe(false);
  });
});
