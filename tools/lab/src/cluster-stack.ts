/**
 * The real cluster layer in the lab: Corosync and Pacemaker in every controller, started from
 * rendered configuration, as supervised lab processes (so `kill`, `stop`/`start` and `down` cover
 * them). Recipe and pitfalls: /work/shared/LAB.md, docs/lab.md.
 */
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { renderNode, type Artifact } from '@triad/render';
import type { ClusterSpec } from '@triad/spec';
import type { Lab } from './lab';
import { LAB_HOST_PROFILE } from './lab-cluster-spec';

/** The files one controller's cluster layer starts from. */
export interface ClusterStackFiles {
  'corosync.conf': string;
  /** Seeds /var/lib/pacemaker/cib/cib.xml when the controller has no CIB yet (first start). */
  'cib.xml'?: string;
  /** /etc/haproxy/haproxy.cfg, which the CIB's haproxy resource (ocf:heartbeat:anything) runs. */
  'haproxy.cfg'?: string;
  /** /etc/mysql/my.cnf, the `config` of the CIB's galera resource. */
  'galera.cnf'?: string;
  /** What the rabbitmq-cluster resource agent's rabbitmq-server reads. */
  'rabbitmq.conf'?: string;
  'rabbitmq-definitions.json'?: string;
  'rabbitmq-env.conf'?: string;
}

/** Where each file goes inside a controller (the host profile the lab renders with). */
const INSTALL_PATHS = {
  'corosync.conf': '/etc/corosync/corosync.conf',
  'haproxy.cfg': LAB_HOST_PROFILE.haproxy.configPath,
  'galera.cnf': LAB_HOST_PROFILE.galera.configPath,
  'rabbitmq.conf': LAB_HOST_PROFILE.rabbitmq.configPath,
  'rabbitmq-definitions.json': LAB_HOST_PROFILE.rabbitmq.definitionsPath,
  'rabbitmq-env.conf': '/etc/rabbitmq/rabbitmq-env.conf',
} as const;
const INSTALLED = Object.keys(INSTALL_PATHS) as (keyof typeof INSTALL_PATHS)[];
const ERLANG_COOKIE = '/var/lib/rabbitmq/.erlang.cookie';

/**
 * What Pacemaker manages in the lab: nothing (the cluster only forms), or the VIPs and the HAProxy
 * clone in front of the stand-in APIs; plus the Galera clone; or everything rendered (plus the
 * RabbitMQ clone).
 */
export const LAB_RESOURCES = ['none', 'haproxy-vips', 'haproxy-vips-galera', 'all'] as const;
export type LabResources = (typeof LAB_RESOURCES)[number];

export interface ClusterMembership {
  dc?: string;
  quorate: boolean;
  online: string[];
  offline: string[];
}

export interface ClusterStackStarted {
  membership: ClusterMembership;
  /** From spawning the first corosync to every node online with a DC. */
  elapsedMs: number;
}

const PACEMAKER_LOG = '/var/log/pacemaker/pacemaker.log';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The files of a node's rendered artifacts that the cluster stack uses. */
export function clusterStackFiles(artifacts: Artifact[]): ClusterStackFiles {
  const content = (name: Artifact['name']) => artifacts.find((a) => a.name === name)?.content;
  const corosync = content('corosync.conf');
  if (corosync === undefined) throw new Error('no corosync.conf among the rendered artifacts');
  const files: ClusterStackFiles = { 'corosync.conf': corosync };
  for (const name of ['cib.xml', ...INSTALLED] as const) {
    const text = content(name);
    if (text !== undefined) files[name] = text;
  }
  return files;
}

/** A CIB keeping only cluster options and nodes: the cluster forms without managing anything. */
export function cibWithoutResources(cibXml: string): string {
  return cibXml
    .replace(/<resources>[\s\S]*?<\/resources>/, '<resources/>')
    .replace(/<constraints>[\s\S]*?<\/constraints>/, '<constraints/>')
    .replace(/<fencing-topology>[\s\S]*?<\/fencing-topology>/, '');
}

/** A CIB without the given top-level clones and every constraint that names them. */
export function cibWithoutClones(cibXml: string, cloneIds: string[]): string {
  let xml = cibXml;
  for (const id of cloneIds) {
    xml = xml
      .replace(new RegExp(`\\s*<clone id="${id}">[\\s\\S]*?</clone>`), '')
      .replace(new RegExp(`\\s*<rsc_[a-z_]+ [^>]*"${id}"[^>]*/>`, 'g'), '');
  }
  return xml;
}

/** Each controller's files for `startClusterStack`, rendered by @triad/render from `spec`. */
export function renderLabClusterFiles(lab: Pick<Lab, 'controllers'>, spec: ClusterSpec, resources: LabResources = 'none'): Record<string, ClusterStackFiles> {
  return Object.fromEntries(
    lab.controllers.map((c) => {
      const files = clusterStackFiles(renderNode(spec, c.name, LAB_HOST_PROFILE));
      const cib = files['cib.xml'] ?? '';
      if (resources === 'none') return [c.name, { 'corosync.conf': files['corosync.conf'], 'cib.xml': cibWithoutResources(cib) }];
      const left = { 'haproxy-vips': ['galera-clone', 'rabbitmq-clone'], 'haproxy-vips-galera': ['rabbitmq-clone'], all: [] }[resources];
      return [c.name, { ...files, 'cib.xml': cibWithoutClones(cib, left) }];
    }),
  );
}

function userIds(user: string): { uid: number; gid: number } {
  const entry = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((line) => line.startsWith(`${user}:`));
  if (!entry) throw new Error(`no user ${user} (is pacemaker installed? tools/install.sh)`);
  const [, , uid, gid] = entry.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** crm_mon's view from one controller, or undefined while Pacemaker does not answer there. */
export async function clusterMembership(lab: Lab, node: string): Promise<ClusterMembership | undefined> {
  const r = await lab.exec(node, ['/usr/sbin/crm_mon', '--output-as=xml', '-1'], { timeoutMs: 10_000 });
  if (!r.stdout.includes('<nodes>')) return undefined;
  const dcTag = /<current_dc [^>]*>/.exec(r.stdout)?.[0] ?? '';
  const attr = (tag: string, name: string) => new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1];
  // Only the <nodes> section: resources list the nodes they run on with the same tag.
  const nodesSection = /<nodes>([\s\S]*?)<\/nodes>/.exec(r.stdout)?.[1] ?? '';
  const nodes = [...nodesSection.matchAll(/<node name="[^"]*"[^>]*>/g)].map(([tag]) => ({ name: attr(tag, 'name') ?? '', online: attr(tag, 'online') === 'true' }));
  return {
    dc: attr(dcTag, 'present') === 'true' ? attr(dcTag, 'name') : undefined,
    quorate: attr(dcTag, 'with_quorum') === 'true',
    online: nodes.filter((n) => n.online).map((n) => n.name),
    offline: nodes.filter((n) => !n.online).map((n) => n.name),
  };
}

/** Waits until `node` sees `expectOnline` nodes online, a DC and quorum. */
export async function waitForMembership(lab: Lab, node: string, expectOnline: number, timeoutMs = 90_000): Promise<ClusterMembership> {
  const deadline = Date.now() + timeoutMs;
  let last: ClusterMembership | undefined;
  while (Date.now() < deadline) {
    last = await clusterMembership(lab, node);
    if (last?.dc && last.quorate && last.online.length === expectOnline) return last;
    await sleep(500);
  }
  throw new Error(`cluster not formed after ${timeoutMs} ms as seen from ${node}: ${JSON.stringify(last)}`);
}

/**
 * Writes each controller's corosync.conf (and first CIB), starts `corosync -f` and, once it
 * answers, `pacemakerd`, on every controller in `files`; resolves when all of them are online
 * with a DC. Processes are named `corosync` and `pacemakerd` in the lab.
 */
export async function startClusterStack(lab: Lab, files: Record<string, ClusterStackFiles>, opts: { timeoutMs?: number; erlangCookie?: string } = {}): Promise<ClusterStackStarted> {
  const nodes = Object.keys(files).map((n) => lab.controller(n));
  const [first] = nodes;
  if (!first) throw new Error('startClusterStack: no controllers given');
  const hacluster = userIds('hacluster');
  const rabbitmq = userIds('rabbitmq');
  // One cookie for the whole lab cluster (the spec only names a secret).
  const erlangCookie = opts.erlangCookie ?? randomBytes(20).toString('hex').toUpperCase();
  for (const c of nodes) {
    const f = Object.entries(files).find(([n]) => lab.controller(n) === c)?.[1];
    if (!f) continue;
    for (const name of INSTALLED) {
      const text = f[name];
      if (text !== undefined) lab.writeFile(c.name, INSTALL_PATHS[name], text);
    }
    if (f['rabbitmq.conf'] !== undefined) {
      lab.writeFile(c.name, ERLANG_COOKIE, erlangCookie, 0o400);
      chownSync(lab.hostPath(c.name, ERLANG_COOKIE), rabbitmq.uid, rabbitmq.gid);
    }
    const cib = lab.hostPath(c.name, '/var/lib/pacemaker/cib/cib.xml');
    if (f['cib.xml'] && !existsSync(cib)) {
      writeFileSync(cib, f['cib.xml'], { mode: 0o600 });
      chownSync(cib, hacluster.uid, hacluster.gid);
    }
  }
  const t0 = Date.now();
  await Promise.all(
    nodes.map(async (c) => {
      await lab.spawn(c.name, 'corosync', ['/usr/sbin/corosync', '-f', '-c', '/etc/corosync/corosync.conf'], {
        cwd: '/',
        readyCheck: ['/usr/sbin/corosync-cfgtool', '-s'],
      });
      await lab.spawn(c.name, 'pacemakerd', ['/usr/sbin/pacemakerd'], {
        cwd: '/',
        env: { PCMK_logfile: PACEMAKER_LOG },
        readyCheck: ['/usr/sbin/cibadmin', '--query', '--scope', 'nodes'],
      });
    }),
  );
  const membership = await waitForMembership(lab, first.name, nodes.length, opts.timeoutMs);
  return { membership, elapsedMs: Date.now() - t0 };
}
