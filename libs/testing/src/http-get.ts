import { get } from 'node:http';

/**
 * One HTTP GET on its own connection (no keep-alive: a reused idle connection closed by a
 * reloading proxy is a client race, not a failure of the proxy). Resolves `"<status> <body>"`.
 */
export function httpGetText(port: number, host = '127.0.0.1', path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get({ host, port, path, agent: false, timeout: 3_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(`${res.statusCode} ${body}`));
    });
    req.on('timeout', () => req.destroy(new Error(`GET http://${host}:${port}${path} timed out`)));
    req.on('error', reject);
  });
}
