import { createHash } from 'node:crypto';

export type ArtifactName = 'haproxy.cfg' | 'cib.xml' | 'corosync.conf' | 'galera.cnf' | 'rabbitmq.conf' | 'rabbitmq-definitions.json' | 'rabbitmq-env.conf';

/** One rendered configuration file for one node, with the digest that identifies its bytes. */
export interface Artifact {
  name: ArtifactName;
  content: string;
  sha256: string;
}

export function sha256Hex(content: string): string {
  return createHash('sha256').update(content, 'utf8').digest('hex');
}

export function artifact(name: ArtifactName, content: string): Artifact {
  return { name, content, sha256: sha256Hex(content) };
}
