import { existsSync, mkdtempSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { freePort } from './processes';
import { runTool } from './process-group';
import { startRabbitmqCluster } from './rabbitmq-cluster';

function portAcceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe(startRabbitmqCluster.name, () => {
  jest.setTimeout(180_000);

  it('stops every node and its private epmd, and removes its directory, when a node cannot boot', async () => {
    const baseDir = mkdtempSync(join(tmpdir(), 'triad-rmq-fail-'));
    const run = basename(baseDir).replace(/[^a-zA-Z0-9]/g, '');
    const epmdPort = await freePort();
    const node = async (name: string, conf: string) => ({ erlangNodeName: `${run}-${name}@localhost`, distPort: await freePort(), rabbitmqConf: conf });
    const configs = {
      good: await node('good', 'listeners.tcp.default = 127.0.0.1:0\ndistribution.listener.interface = 127.0.0.1\n'),
      // RabbitMQ refuses a value outside the schema and the node exits.
      broken: await node('broken', 'cluster_partition_handling = sometimes\n'),
    };
    await expect(startRabbitmqCluster({ configs, cookie: 'LABCOOKIELABCOOKIE', baseDir, epmdPort })).rejects.toThrow(/RabbitMQ cluster did not form/);
    expect(await runTool('/usr/bin/pgrep', ['-af', baseDir]).catch(() => '')).toBe('');
    expect(await portAcceptsConnections(epmdPort)).toBe(false);
    expect(existsSync(baseDir)).toBe(false);
  });
});
