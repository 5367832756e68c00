/**
 * Stand-ins for OpenStack API services in the lab and the local demo: one tiny HTTP server per
 * (address, port, service) that answers every path with 200 and says which controller answered.
 * Usage: node -r @swc-node/register tools/lab/standin-service.ts --node controller-1 \
 *          --listen keystone-public=127.0.0.2:5000 --listen glance-api=127.0.0.2:9292
 */
import { createServer } from 'node:http';

function parseArgs(argv: string[]): { node: string; listeners: { service: string; host: string; port: number }[] } {
  let node = '';
  const listeners: { service: string; host: string; port: number }[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === '--node' && value) {
      node = value;
      i++;
    } else if (arg === '--listen' && value) {
      const m = /^([a-z0-9-]+)=([0-9.]+):(\d+)$/.exec(value);
      if (!m) throw new Error(`--listen expects service=host:port, got "${value}"`);
      const [, service = '', host = '', port = ''] = m;
      listeners.push({ service, host, port: Number(port) });
      i++;
    } else {
      throw new Error(`unknown argument "${arg}"`);
    }
  }
  if (!node || listeners.length === 0) throw new Error('usage: --node NAME --listen service=host:port ...');
  return { node, listeners };
}

const { node, listeners } = parseArgs(process.argv.slice(2));
const servers = listeners.map(({ service, host, port }) => {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify({ service, node, path: req.url }) + '\n');
  });
  // A port it cannot bind is a broken controller, not a half-working one: exit and say why.
  server.on('error', (error) => {
    process.stderr.write(`standin ${node}: ${service}@${host}:${port}: ${error.message}\n`);
    process.exit(1);
  });
  server.listen(port, host);
  return server;
});
process.stdout.write(`standin ${node}: ${listeners.map((l) => `${l.service}@${l.host}:${l.port}`).join(' ')}\n`);
const stop = () => {
  for (const s of servers) s.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
