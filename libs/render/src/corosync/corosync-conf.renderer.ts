import type { ClusterSpec } from '@triad/spec';
import { artifact, type Artifact } from '../artifact';
import { DEFAULT_HOST_PROFILE, type HostProfile } from '../host-profile';
import { findNode, renderedByTriad } from '../node-lookup';

/** A corosync.conf section; nested sections are indented with their parent's body. */
function block(name: string, body: string[]): string[] {
  return [`${name} {`, ...body.map((line) => `    ${line}`), '}'];
}

export function renderCorosyncConf(
  spec: ClusterSpec,
  nodeName: string,
  profile: HostProfile = DEFAULT_HOST_PROFILE,
): Artifact {
  findNode(spec, nodeName);
  const c = spec.corosync;
  const totem = block('totem', [
    'version: 2',
    `cluster_name: ${spec.metadata.name}`,
    `transport: ${c.transport}`,
    `token: ${c.tokenMs}`,
    // Corosync 3 refuses crypto options on udpu (validation rejects the combination).
    ...(c.transport === 'knet' ? [`crypto_cipher: ${c.crypto.cipher}`, `crypto_hash: ${c.crypto.hash}`] : []),
  ]);
  // Node ids follow spec order; they must never change for a running node, so append new nodes.
  const nodelist = block(
    'nodelist',
    spec.topology.nodes.flatMap((n, i) =>
      block('node', [`ring0_addr: ${n.managementAddress}`, `name: ${n.name}`, `nodeid: ${i + 1}`]),
    ),
  );
  const quorum = block('quorum', [
    'provider: corosync_votequorum',
    // Two nodes cannot have a majority after one is lost: two_node keeps the survivor quorate
    // (safe only with fencing, which validation requires or makes the operator acknowledge).
    ...(spec.topology.nodes.length === 2 ? ['two_node: 1'] : []),
  ]);
  const logging = block('logging', [
    'to_logfile: yes',
    `logfile: ${profile.corosync.logFile}`,
    'to_syslog: yes',
    'timestamp: on',
  ]);
  const content = [renderedByTriad(spec, nodeName, '#'), ...[totem, nodelist, quorum, logging].map((b) => `${b.join('\n')}\n`)].join('\n');
  return artifact('corosync.conf', content);
}
