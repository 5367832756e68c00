import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSpecText, validateClusterSpec, type ClusterSpec } from '@triad/spec';
import { sha256Hex } from './artifact';
import { renderCorosyncConf } from './corosync/corosync-conf.renderer';
import { renderHaproxyCfg } from './haproxy/haproxy-cfg.renderer';
import { DEFAULT_HOST_PROFILE, type HostProfile } from './host-profile';
import { UnknownNodeError } from './node-lookup';
import { renderCib } from './pacemaker/cib.renderer';
import { renderNode } from './render-node';

function example(name: string, edit: (raw: Record<string, unknown>) => void = () => undefined): ClusterSpec {
  const file = join(__dirname, '../../../examples', `${name}.yaml`);
  const raw = parseSpecText(readFileSync(file, 'utf8'), file) as Record<string, unknown>;
  edit(raw);
  const { spec, problems } = validateClusterSpec(raw);
  if (!spec) throw new Error(JSON.stringify(problems));
  return spec;
}

const seed = example('seed-3-active-active');

describe(renderNode.name, () => {
  it('returns every artifact of a node, sorted by name, each with the sha256 of its content', () => {
    const artifacts = renderNode(seed, 'controller-2');
    expect(artifacts.map((a) => a.name)).toEqual([...artifacts.map((a) => a.name)].sort());
    expect(artifacts.map((a) => a.name)).toEqual(expect.arrayContaining(['cib.xml', 'corosync.conf', 'haproxy.cfg']));
    for (const a of artifacts) expect(a.sha256).toBe(sha256Hex(a.content));
  });

  it('renders the same bytes every time', () => {
    const again = example('seed-3-active-active');
    expect(renderNode(again, 'controller-1')).toEqual(renderNode(seed, 'controller-1'));
  });

  it('refuses a node that is not in the spec, naming the known nodes', () => {
    expect(() => renderNode(seed, 'controller-9')).toThrow(UnknownNodeError);
    expect(() => renderNode(seed, 'controller-9')).toThrow(
      'Node "controller-9" is not in the cluster spec; known nodes: controller-1, controller-2, controller-3',
    );
  });
});

describe(renderHaproxyCfg.name, () => {
  const cfg = renderHaproxyCfg(seed, 'controller-1').content;

  it('puts the admin socket with expose-fd in global and no pidfile', () => {
    expect(cfg).toContain('  stats socket /run/haproxy/admin.sock mode 600 level admin expose-fd listeners\n');
    expect(cfg).not.toMatch(/pidfile/);
  });

  it('checks every backend every 2 s, up after 2 good checks and down after 5 bad ones', () => {
    expect(cfg).toContain('  default-server inter 2s rise 2 fall 5\n');
  });

  it('binds each service on its own VIP and port with its health check and balance mode', () => {
    expect(cfg).toContain(
      [
        'listen horizon',
        '  bind 10.20.0.20:80 transparent',
        '  mode http',
        '  option httplog',
        '  option forwardfor',
        '  balance source',
        '  option httpchk GET /',
        '  server controller-1 172.16.2.11:80 check',
        '  server controller-2 172.16.2.12:80 check',
        '  server controller-3 172.16.2.13:80 check',
      ].join('\n'),
    );
    expect(cfg).toMatch(/listen glance-api\n {2}bind 10\.20\.0\.11:9292 transparent\n(.*\n)* {2}balance leastconn\n {2}option httpchk GET \/healthcheck\n/);
  });

  it('sends database traffic to one writer, the other nodes as backups checked on clustercheck', () => {
    expect(cfg).toContain(
      [
        'listen galera',
        '  bind 172.16.2.100:3306 transparent',
        '  mode tcp',
        '  option tcplog',
        '  option tcpka',
        '  option httpchk',
        '  timeout client 90m',
        '  timeout server 90m',
        '  default-server port 9200 inter 2s rise 2 fall 5 on-marked-down shutdown-sessions',
        '  server controller-1 172.16.2.11:3306 check',
        '  server controller-2 172.16.2.12:3306 check backup',
        '  server controller-3 172.16.2.13:3306 check backup',
      ].join('\n'),
    );
  });

  it('binds every frontend on the override address, keeping service ports, when the host profile says so', () => {
    const profile: HostProfile = {
      ...DEFAULT_HOST_PROFILE,
      haproxy: { ...DEFAULT_HOST_PROFILE.haproxy, bindAddressOverride: '127.0.0.2', statsSocket: '/tmp/x.sock' },
    };
    const local = renderHaproxyCfg(seed, 'controller-1', profile).content;
    const binds = local.split('\n').filter((l) => l.trim().startsWith('bind '));
    expect(binds).toHaveLength(seed.services.length + 1);
    expect(binds.every((l) => l.startsWith('  bind 127.0.0.2:'))).toBe(true);
    expect(local).toContain('  bind 127.0.0.2:5000 transparent\n');
    expect(local).toContain('  bind 127.0.0.2:3306 transparent\n');
    expect(local).toContain('stats socket /tmp/x.sock ');
  });

  it('makes every node but the first a backup in ACTIVE_PASSIVE', () => {
    const ap = renderHaproxyCfg(example('three-active-passive'), 'ctl-b').content;
    expect(ap).toContain('  server ctl-a 10.41.0.11:8080 check\n  server ctl-b 10.41.0.12:8080 check backup\n');
  });

  it('binds an IPv6 VIP with the ipv6@ prefix so the port stays unambiguous', () => {
    const v6 = example('seed-3-active-active', (raw) => {
      const topology = raw['topology'] as { networks: { public: { cidr: string } } };
      topology.networks.public.cidr = 'fd00:20::/64';
      raw['services'] = [{ name: 'keystone', vip: 'fd00:20::10' }];
    });
    expect(renderHaproxyCfg(v6, 'controller-1').content).toContain('  bind ipv6@fd00:20::10:5000 transparent\n');
  });
});

describe(renderCib.name, () => {
  const cib = renderCib(seed, 'controller-1').content;

  it('declares the feature set and schema the lab pacemaker accepts', () => {
    expect(cib).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<cib crm_feature_set="3\.16\.1" validate-with="pacemaker-3\.9" /);
  });

  it('renders each VIP as IPaddr2 with the network prefix, sticky, colocated with and ordered after HAProxy', () => {
    expect(cib).toContain('<nvpair id="vip-keystone-instance_attributes-cidr_netmask" name="cidr_netmask" value="24"/>');
    expect(cib).toContain('<nvpair id="vip-keystone-meta_attributes-resource-stickiness" name="resource-stickiness" value="INFINITY"/>');
    expect(cib).toContain(
      '<rsc_colocation id="colocation-vip-keystone-with-haproxy-clone" rsc="vip-keystone" with-rsc="haproxy-clone" score="INFINITY"/>',
    );
    expect(cib).toContain(
      '<rsc_order id="order-haproxy-clone-then-vip-keystone" first="haproxy-clone" first-action="start" then="vip-keystone" then-action="start" kind="Optional"/>',
    );
  });

  it('promotes Galera on every node and lists every node in the gcomm address', () => {
    expect(cib).toContain('name="promoted-max" value="3"');
    expect(cib).toContain('value="gcomm://172.16.2.11,172.16.2.12,172.16.2.13"');
    expect(cib).toContain('value="controller-1:172.16.2.11;controller-2:172.16.2.12;controller-3:172.16.2.13"');
  });

  it('runs rabbitmq-cluster as an ordered clone with notifications', () => {
    expect(cib).toContain('<primitive id="rabbitmq" class="ocf" provider="heartbeat" type="rabbitmq-cluster">');
    expect(cib).toContain('<nvpair id="rabbitmq-clone-meta_attributes-notify" name="notify" value="true"/>');
    expect(cib).toContain('<nvpair id="rabbitmq-clone-meta_attributes-ordered" name="ordered" value="true"/>');
  });

  it('writes fencing secrets as cibsecret references, never their value', () => {
    expect(cib).toContain('<nvpair id="ipmi-controller-1-instance_attributes-password" name="password" value="lrm://"/>');
    expect(cib).not.toContain('secretRef');
  });

  it('keeps a single-node fencing device off the node it fences', () => {
    expect(cib).toContain(
      '<rsc_location id="location-ipmi-controller-2-avoids-controller-2" rsc="ipmi-controller-2" node="controller-2" score="-INFINITY"/>',
    );
  });

  it('runs HAProxy with ocf:heartbeat:anything and the profile config path when the spec asks', () => {
    const ap = renderCib(example('three-active-passive'), 'ctl-a').content;
    expect(ap).toContain('<primitive id="haproxy" class="ocf" provider="heartbeat" type="anything">');
    expect(ap).toContain('name="cmdline_options" value="-W -db -f /etc/haproxy/haproxy.cfg"');
    expect(cib).toContain('<primitive id="haproxy" class="systemd" type="haproxy">');
  });

  it('starts the Pacemaker-run HAProxy with the profile master socket and caps maxconn when the host profile says so', () => {
    const spec = example('three-active-passive');
    const profile: HostProfile = { ...DEFAULT_HOST_PROFILE, haproxy: { ...DEFAULT_HOST_PROFILE.haproxy, masterSocket: '/run/haproxy/master.sock', maxconn: 4096 } };
    expect(renderCib(spec, 'ctl-a', profile).content).toContain('name="cmdline_options" value="-W -db -S /run/haproxy/master.sock,mode,600 -f /etc/haproxy/haproxy.cfg"');
    const cfg = renderHaproxyCfg(spec, 'ctl-a', profile).content;
    expect(cfg).toMatch(/\nglobal\n(?: {2}.*\n)* {2}maxconn 4096\n/);
    expect(cfg).not.toContain('maxconn 20480');
    // The default profile renders what the golden files hold.
    expect(renderHaproxyCfg(spec, 'ctl-a').content).toMatch(/\nglobal\n(?: {2}.*\n)* {2}maxconn 20480\n/);
  });

  it('escapes values through the XML library (defence in depth: validation already refuses these characters)', () => {
    const tricky = example('seed-3-active-active');
    const device = tricky.pacemaker.fencing.devices[0];
    if (!device) throw new Error('the seed example has fencing devices');
    device.params['username'] = 'a"<b>&c';
    expect(renderCib(tricky, 'controller-1').content).toContain('value="a&quot;&lt;b&gt;&amp;c"');
  });
});

describe(renderCorosyncConf.name, () => {
  it('writes one multi-line node block per node with its management address and a stable nodeid', () => {
    const conf = renderCorosyncConf(seed, 'controller-1').content;
    expect(conf).toContain(
      '    node {\n        ring0_addr: 192.168.24.12\n        name: controller-2\n        nodeid: 2\n    }\n',
    );
    expect(conf).toContain('    transport: knet\n    token: 10000\n    crypto_cipher: aes256\n    crypto_hash: sha256\n');
    expect(conf).not.toContain('two_node');
  });

  it('sets two_node only for a two-node cluster', () => {
    const two = example('three-active-passive', (raw) => {
      const topology = raw['topology'] as { nodes: unknown[] };
      topology.nodes.pop();
      const pacemaker = raw['pacemaker'] as { fencing: { devices: unknown[] } };
      pacemaker.fencing.devices.pop();
      raw['galera'] = { arbitrator: { address: '10.41.0.50' } };
    });
    expect(renderCorosyncConf(two, 'ctl-a').content).toContain('quorum {\n    provider: corosync_votequorum\n    two_node: 1\n}\n');
  });

  it('leaves crypto out on udpu', () => {
    const conf = renderCorosyncConf(example('three-active-passive'), 'ctl-a').content;
    expect(conf).toContain('transport: udpu');
    expect(conf).not.toContain('crypto_');
  });
});
