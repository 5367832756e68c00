import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '../../..');
const TRIAD = join(ROOT, 'bin/triad');
const SEED = join(ROOT, 'examples/seed-3-active-active.yaml');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function triad(args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(TRIAD, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'triad-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('triad CLI', () => {
  it('validate exits 0 for a valid spec', async () => {
    const out = await triad(['validate', '--spec', SEED]);
    expect(out).toMatchObject({ code: 0, stderr: '' });
    expect(out.stdout).toContain('valid (3 nodes, 14 services)');
  }, 60_000);

  it('validate prints every problem with its path and exits 1 on errors', async () => {
    const seed = await readFile(SEED, 'utf8');
    const broken = seed
      .replace('vip: 10.20.0.11', 'vip: 10.99.0.11')
      .replace('erlangCookie: { secretRef: rabbitmq-erlang-cookie }', 'erlangCookie: chocolate');
    const file = join(dir, 'broken.yaml');
    await writeFile(file, broken);
    const out = await triad(['validate', '--spec', file]);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('ERROR SECRET_INLINE at rabbitmq.erlangCookie:');
    expect(out.stderr).toContain('ERROR VIP_OUT_OF_SUBNET at services[2].vip: VIP 10.99.0.11 is outside the public network');
  }, 60_000);

  it('validate exits 0 when only acknowledged warnings remain', async () => {
    const seed = await readFile(SEED, 'utf8');
    const file = join(dir, 'no-stonith.yaml');
    await writeFile(
      file,
      `${seed}\nacknowledgedWarnings: [STONITH_DISABLED]\n`.replace('pacemaker:\n', 'pacemaker:\n  properties: { stonithEnabled: false }\n'),
    );
    const out = await triad(['validate', '--spec', file]);
    expect(out.code).toBe(0);
    expect(out.stderr).toContain('WARNING STONITH_DISABLED at pacemaker.properties.stonithEnabled');
  }, 60_000);

  it('validate --json prints the problems for automation', async () => {
    const file = join(dir, 'json.yaml');
    await writeFile(file, (await readFile(SEED, 'utf8')).replace('name: seed', 'name: Seed'));
    const out = await triad(['validate', '--spec', file, '--json']);
    expect(out.code).toBe(1);
    expect(JSON.parse(out.stdout)).toEqual({
      valid: false,
      problems: [expect.objectContaining({ code: 'BAD_NAME', path: 'metadata.name', severity: 'error' })],
    });
  }, 60_000);

  it('validate reports a file that is not YAML', async () => {
    const file = join(dir, 'garbage.yaml');
    await writeFile(file, 'topology: [unclosed\n');
    const out = await triad(['validate', '--spec', file]);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('ERROR UNPARSEABLE:');
  }, 60_000);

  it('render writes the artifacts of one node into OUT/<node>/', async () => {
    const out = await triad(['render', '--spec', SEED, '--out', join(dir, 'out'), '--node', 'controller-2']);
    expect(out.code).toBe(0);
    expect(await readdir(join(dir, 'out'))).toEqual(['controller-2']);
    const files = await readdir(join(dir, 'out', 'controller-2'));
    expect(files).toEqual(expect.arrayContaining(['cib.xml', 'corosync.conf', 'haproxy.cfg']));
    const golden = await readFile(join(ROOT, 'examples/rendered/seed-3-active-active/controller-2/haproxy.cfg'), 'utf8');
    expect(await readFile(join(dir, 'out', 'controller-2', 'haproxy.cfg'), 'utf8')).toBe(golden);
  }, 60_000);

  it('render refuses a node that is not in the spec', async () => {
    const out = await triad(['render', '--spec', SEED, '--out', join(dir, 'none'), '--node', 'controller-9']);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('Node "controller-9" is not in the cluster spec');
  }, 60_000);
});
