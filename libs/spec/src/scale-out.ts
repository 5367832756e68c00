import { canonicalAddress, cidrContains, formatCidr, isIpAddress, parseCidr } from './addresses';
import type { ClusterNode, ClusterSpec } from './cluster-spec.schema';

/**
 * Widest network a management address is looked for in when nodes use a management network of
 * their own: the spec does not name it, so it is the network the existing nodes' management
 * addresses share, at most a /24 (IPv4) or /64 (IPv6).
 */
const MAX_MANAGEMENT_NETWORK = { 4: 24, 6: 64 } as const;

export type NewNodePlacement = { node: ClusterNode; spec: ClusterSpec } | { refusal: string };

/** Addresses a new node must not take: the nodes' own, the VIPs, the arbitrator. */
function takenAddresses(spec: ClusterSpec): Set<string> {
  const taken = [
    ...spec.topology.nodes.flatMap((n) => [n.managementAddress, n.internalAddress]),
    spec.topology.networks.public.vip,
    spec.topology.networks.internal.vip,
    ...spec.services.map((s) => s.vip),
    spec.galera.vip,
    spec.galera.arbitrator?.address,
  ];
  return new Set(taken.filter((a): a is string => a !== undefined).map(canonicalAddress));
}

/** Longest prefix whose network holds every address (all of one family), capped for a management network. */
function sharedNetwork(addresses: readonly string[]): string | undefined {
  const [first] = addresses;
  if (!first) return undefined;
  const family = first.includes(':') ? 6 : 4;
  if (addresses.some((a) => a.includes(':') !== (family === 6))) return undefined;
  for (let prefix = MAX_MANAGEMENT_NETWORK[family]; prefix >= 0; prefix--) {
    const cidr = parseCidr(`${first}/${prefix}`);
    if (cidr && addresses.every((a) => cidrContains(cidr, a))) return formatCidr(cidr);
  }
  return undefined;
}

function pickOne(what: string, network: string, candidates: string[], reported: readonly string[]): string | { refusal: string } {
  if (candidates.length === 1) return candidates[0];
  if (candidates.length === 0) return { refusal: `none of the node's addresses (${reported.join(', ') || 'none reported'}) is a free address in the ${what} network ${network}` };
  return { refusal: `the node has several free addresses in the ${what} network ${network} (${candidates.join(', ')}); enroll it after adding it to the spec yourself` };
}

/**
 * Pure: the spec with a node that is not in it appended, its addresses taken from the ones its
 * agent reported. The internal address is the one free address inside the internal network's
 * CIDR; the management address is the same one when every node uses one address for both,
 * otherwise the one free address in the network the existing management addresses share.
 * Refuses (with a sentence for the agent) when no single address fits. The result still has to
 * pass `validateClusterSpec` (node count, even Galera membership, fencing of the new node…).
 */
export function specWithNewNode(spec: ClusterSpec, name: string, reportedAddresses: readonly string[]): NewNodePlacement {
  if (spec.topology.nodes.some((n) => n.name === name)) return { refusal: `node "${name}" is already in the spec` };
  const taken = takenAddresses(spec);
  const free = [...new Set(reportedAddresses.filter(isIpAddress))].filter((a) => !taken.has(canonicalAddress(a)));

  const internalCidr = spec.topology.networks.internal.cidr;
  const internalNetwork = parseCidr(internalCidr);
  if (!internalNetwork) return { refusal: `the spec's internal network ${internalCidr} is not a CIDR` };
  const internal = pickOne('internal', internalCidr, free.filter((a) => cidrContains(internalNetwork, a)), reportedAddresses);
  if (typeof internal !== 'string') return internal;

  let management = internal;
  const separate = spec.topology.nodes.filter((n) => canonicalAddress(n.managementAddress) !== canonicalAddress(n.internalAddress));
  if (separate.length > 0) {
    const network = sharedNetwork(spec.topology.nodes.map((n) => n.managementAddress));
    const cidr = network ? parseCidr(network) : undefined;
    if (!network || !cidr) return { refusal: 'the nodes of the spec have management addresses in no common network; add the node to the spec yourself' };
    const picked = pickOne('management', network, free.filter((a) => cidrContains(cidr, a) && a !== internal), reportedAddresses);
    if (typeof picked !== 'string') return picked;
    management = picked;
  }

  const node: ClusterNode = { name, managementAddress: management, internalAddress: internal };
  return { node, spec: { ...spec, topology: { ...spec.topology, nodes: [...spec.topology.nodes, node] } } };
}
