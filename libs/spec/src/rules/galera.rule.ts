import { canonicalAddress } from '../addresses';
import type { ClusterSpec } from '../cluster-spec.schema';
import type { SpecProblem } from '../spec-problem';

export function checkGalera(spec: ClusterSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const { galera } = spec;
  const nodes = spec.topology.nodes.length;
  const members = nodes + (galera.arbitrator ? 1 : 0);
  if (members % 2 === 0) {
    problems.push(
      galera.arbitrator
        ? {
            path: 'galera.arbitrator',
            code: 'EVEN_GALERA_MEMBERSHIP',
            message: `With the arbitrator Galera has ${members} members, an even number that can split in half without quorum; remove the arbitrator or add a node.`,
            severity: 'error',
          }
        : {
            path: 'galera',
            code: 'EVEN_GALERA_MEMBERSHIP',
            message: `Galera has ${members} members, an even number that can split in half without quorum; add galera.arbitrator (garbd) or a node, or add EVEN_GALERA_MEMBERSHIP to acknowledgedWarnings (e.g. on the way from 3 to 5 nodes).`,
            // Acknowledgeable: scaling out one controller at a time passes through even counts.
            severity: 'warning',
          },
    );
  }
  if (galera.arbitrator) {
    const address = canonicalAddress(galera.arbitrator.address);
    const node = spec.topology.nodes.find(
      (n) => canonicalAddress(n.internalAddress) === address || canonicalAddress(n.managementAddress) === address,
    );
    if (node) {
      problems.push({
        path: 'galera.arbitrator.address',
        code: 'ARBITRATOR_ON_NODE',
        message: `The arbitrator ${galera.arbitrator.address} is node ${node.name}, so losing that node loses two votes; run garbd on a separate host.`,
        severity: 'error',
      });
    }
  }
  if (galera.network === 'public') {
    problems.push({
      path: 'galera.network',
      code: 'GALERA_ON_PUBLIC_NETWORK',
      message:
        'The database frontend would listen on the public network, reachable by tenants and the internet; use network internal, or add GALERA_ON_PUBLIC_NETWORK to acknowledgedWarnings.',
      severity: 'warning',
    });
  }
  if (galera.sstMethod === 'mariabackup' && !galera.sstPassword) {
    problems.push({
      path: 'galera.sstPassword',
      code: 'SST_PASSWORD_MISSING',
      message: 'mariabackup SST needs a database user; set galera.sstPassword to { secretRef: "<name>" } or use sstMethod rsync.',
      severity: 'error',
    });
  }
  return problems;
}
