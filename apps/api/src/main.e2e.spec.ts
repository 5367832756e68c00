import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphQLClient, createTestDatabase, freePort, selfSignedCertificate, startTsProcess, waitFor, type TestDatabase, type TriadProcess } from '@triad/testing';

/** The api and admin entrypoints run as operators run them: separate processes, env config. */
describe('api process', () => {
  let db: TestDatabase;
  let dir: string;
  let env: Record<string, string>;
  let api: TriadProcess | undefined;

  const admin = async (args: string[]) => {
    const p = startTsProcess({ name: 'admin', entry: 'apps/api/src/admin.ts', args, env, logFile: join(dir, `admin-${randomBytes(3).toString('hex')}.log`) });
    const code = await p.exited;
    return { code, output: p.log() };
  };

  beforeAll(async () => {
    db = await createTestDatabase('api_process');
    dir = mkdtempSync(join(tmpdir(), 'triad-api-proc-'));
    const key = join(dir, 'command-signing.pem');
    writeFileSync(key, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const tls = selfSignedCertificate(join(dir, 'tls'), { ips: ['127.0.0.1'] });
    env = {
      DATABASE_URL: db.url,
      COMMAND_SIGNING_KEY_FILE: key,
      HTTP_PORT: String(await freePort()),
      GRPC_BIND: `127.0.0.1:${await freePort()}`,
      GRPC_TLS_CERT_FILE: tls.certFile,
      GRPC_TLS_KEY_FILE: tls.keyFile,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      REDIS_PREFIX: `triad-test-${randomBytes(4).toString('hex')}:`,
      NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    };
  }, 60_000);

  afterAll(async () => {
    await api?.stop('SIGKILL');
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('bootstraps a tenant once, writes the owner token mode 600, and rotates it only when asked', async () => {
    const out = join(dir, 'owner.token');
    const first = await admin(['bootstrap-tenant', '--name', 'Acme', '--slug', 'acme', '--out', out]);
    expect(first.code).toBe(0);
    expect(first.output).toContain(out);
    const token = readFileSync(out, 'utf8').trim();
    expect(token).toMatch(/^triad_pat_/);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(first.output).not.toContain(token);

    const again = await admin(['bootstrap-tenant', '--name', 'Acme', '--slug', 'acme', '--out', join(dir, 'other.token')]);
    expect(again.code).not.toBe(0);
    expect(again.output).toMatch(/already exists/);

    const rotated = await admin(['bootstrap-tenant', '--name', 'Acme', '--slug', 'acme', '--out', out, '--rotate']);
    expect(rotated.code).toBe(0);
    expect(readFileSync(out, 'utf8').trim()).not.toBe(token);
  }, 60_000);

  it('refuses to start with agent gRPC in clear unless GRPC_INSECURE says so', async () => {
    const { GRPC_TLS_CERT_FILE: _cert, GRPC_TLS_KEY_FILE: _key, ...plain } = env;
    const refused = startTsProcess({ name: 'api-plain', entry: 'apps/api/src/main.ts', env: plain, logFile: join(dir, 'api-plain.log') });
    expect(await refused.exited).not.toBe(0);
    expect(refused.log()).toContain('agent gRPC needs TLS: set GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE');
    await expect(fetch(`http://127.0.0.1:${env.HTTP_PORT}/healthz`)).rejects.toThrow();

    const both = startTsProcess({ name: 'api-both', entry: 'apps/api/src/main.ts', env: { ...env, GRPC_INSECURE: 'true' }, logFile: join(dir, 'api-both.log') });
    expect(await both.exited).not.toBe(0);
    expect(both.log()).toContain('GRPC_INSECURE=true contradicts GRPC_TLS_CERT_FILE');
  }, 90_000);

  it('serves GraphQL with the owner token, logs each operation with its tenant, and stops cleanly on SIGTERM', async () => {
    api = startTsProcess({ name: 'api', entry: 'apps/api/src/main.ts', env, logFile: join(dir, 'api.log') });
    const base = `http://127.0.0.1:${env.HTTP_PORT}`;
    await waitFor('api /healthz', async () => (await fetch(`${base}/healthz`)).ok, 60_000, 250);
    const client = new GraphQLClient(`${base}/graphql`, readFileSync(join(dir, 'owner.token'), 'utf8').trim());
    const { createCloud } = await client.ok<{ createCloud: { name: string } }>('mutation CreateEuWest { createCloud(name: "eu-west") { name } }');
    expect(createCloud.name).toBe('eu-west');

    const code = await api.stop('SIGTERM', 20_000);
    expect(code).toBe(0);
    expect(api.log()).toContain('"msg":"stopped"');
    const line = api
      .log()
      .split('\n')
      .find((l) => l.includes('"operation":"CreateEuWest"'));
    expect(JSON.parse(line ?? '{}')).toMatchObject({ msg: 'graphql operation', operationType: 'mutation', tenantId: expect.any(String) });
  }, 90_000);
});
