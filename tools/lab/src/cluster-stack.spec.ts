import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './host-process';
import { LAB_RESOURCES, renderLabClusterFiles } from './cluster-stack';
import { LAB_HOST_PROFILE, labClusterSpec } from './lab-cluster-spec';

// What the lab starts from, checked offline by the real tools (crm_verify, haproxy -c).
const lab = {
  name: 'unit',
  gatewayAddress: '10.77.99.254',
  controllers: [1, 2, 3].map((i) => ({ name: `controller-${i}`, index: i, netns: `unit-c${i}`, address: `10.77.99.${i}`, dir: '/nonexistent', stopped: false })),
};

describe(renderLabClusterFiles.name, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lab-files-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(LAB_RESOURCES)('gives Pacemaker a CIB crm_verify accepts with resources "%s"', async (resources) => {
    const files = renderLabClusterFiles(lab, labClusterSpec(lab), resources)['controller-1'];
    const cib = join(dir, `cib-${resources}.xml`);
    writeFileSync(cib, files?.['cib.xml'] ?? '');
    const verify = await run('crm_verify', ['--xml-file', cib]);
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
  });

  it('keeps only the resources the chosen set names', () => {
    const cib = (resources: (typeof LAB_RESOURCES)[number]) => renderLabClusterFiles(lab, labClusterSpec(lab), resources)['controller-2']?.['cib.xml'] ?? '';
    expect(cib('none')).not.toContain('<primitive');
    expect(cib('haproxy-vips')).toContain('id="haproxy-clone"');
    expect(cib('haproxy-vips')).not.toMatch(/galera-clone|rabbitmq-clone/);
    expect(cib('haproxy-vips-galera')).toContain('id="galera-clone"');
    expect(cib('haproxy-vips-galera')).not.toContain('rabbitmq-clone');
    expect(cib('all')).toContain('id="rabbitmq-clone"');
  });

  it('renders HAProxy\'s global maxconn below the open-files limit (lab host profile), in a config HAProxy accepts', async () => {
    const cfg = renderLabClusterFiles(lab, labClusterSpec(lab), 'haproxy-vips')['controller-3']?.['haproxy.cfg'] ?? '';
    expect(cfg).toMatch(/^global\n(?:\s+.*\n)*?\s+maxconn 4096$/m);
    const file = join(dir, 'haproxy.cfg');
    writeFileSync(file, cfg);
    expect((await run('haproxy', ['-c', '-f', file])).code).toBe(0);
  });

  it('for Triad agents, runs the HAProxy clone with the profile master socket, in a CIB crm_verify accepts', async () => {
    const xml = renderLabClusterFiles(lab, labClusterSpec(lab), 'haproxy-vips')['controller-1']?.['cib.xml'] ?? '';
    expect(xml).toContain(`value="-W -db -S ${LAB_HOST_PROFILE.haproxy.masterSocket ?? ''},mode,600 -f /etc/haproxy/haproxy.cfg"`);
    const cib = join(dir, 'cib-agents.xml');
    writeFileSync(cib, xml);
    expect((await run('crm_verify', ['--xml-file', cib])).code).toBe(0);
  });
});
