import type { ClusterSpec } from '@triad/spec';
import type { Artifact } from './artifact';
import { renderCorosyncConf } from './corosync/corosync-conf.renderer';
import { renderGaleraCnf } from './galera/galera-cnf.renderer';
import { renderHaproxyCfg } from './haproxy/haproxy-cfg.renderer';
import { DEFAULT_HOST_PROFILE, type HostProfile } from './host-profile';
import { findNode } from './node-lookup';
import { renderCib } from './pacemaker/cib.renderer';
import { renderRabbitmqConf, renderRabbitmqDefinitions, renderRabbitmqEnvConf } from './rabbitmq/rabbitmq-conf.renderer';

type NodeRenderer = (spec: ClusterSpec, nodeName: string, profile: HostProfile) => Artifact;

/** Every renderer that produces one artifact per node. */
const NODE_RENDERERS: NodeRenderer[] = [
  renderHaproxyCfg,
  renderCib,
  renderCorosyncConf,
  renderGaleraCnf,
  renderRabbitmqConf,
  renderRabbitmqDefinitions,
  renderRabbitmqEnvConf,
];

/** All artifacts of one node, sorted by name. Throws UnknownNodeError for a node not in the spec. */
export function renderNode(
  spec: ClusterSpec,
  nodeName: string,
  profile: HostProfile = DEFAULT_HOST_PROFILE,
): Artifact[] {
  findNode(spec, nodeName);
  return NODE_RENDERERS.map((render) => render(spec, nodeName, profile)).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
}
