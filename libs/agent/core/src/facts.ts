import { readFile } from 'node:fs/promises';
import { hostname, networkInterfaces, release, type } from 'node:os';
import type { Facts } from '@triad/protocol';

/** Bumped with every agent release; reported in facts, Hello and heartbeats. */
export const AGENT_VERSION = '0.1.0';

async function machineId(): Promise<string> {
  for (const path of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    try {
      const id = (await readFile(path, 'utf8')).trim();
      if (id) return id;
    } catch {
      // try the next location
    }
  }
  return '';
}

/** Non-loopback addresses of every interface: what the control plane shows and matches nodes by. */
export function nodeAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (!a.internal) out.push(a.address);
    }
  }
  return out.sort();
}

/** Facts about this node; `versions` comes from the component drivers (e.g. haproxy -> 2.6.12). */
export async function collectFacts(versions: Record<string, string>): Promise<Facts> {
  return {
    hostname: hostname(),
    machineId: await machineId(),
    addresses: nodeAddresses(),
    agentVersion: AGENT_VERSION,
    versions,
    os: `${type()} ${release()}`,
  };
}
