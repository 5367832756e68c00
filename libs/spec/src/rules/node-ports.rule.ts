import type { ClusterSpec } from '../cluster-spec.schema';
import { resolveService } from '../resolve';
import { isCatalogueService } from '../service-catalogue';
import type { SpecProblem } from '../spec-problem';

/** Galera replication (4567), IST (4568), SST (4444) and Erlang's epmd (4369) are fixed. */
const FIXED_PORTS: { port: number; owner: string }[] = [
  { port: 4567, owner: 'Galera replication' },
  { port: 4568, owner: 'Galera IST' },
  { port: 4444, owner: 'Galera SST' },
  { port: 4369, owner: 'Erlang epmd' },
];

/**
 * Every service, Galera and RabbitMQ listen on each node's internal address: two of them on one
 * port means one fails to start on every node.
 */
export function checkNodePorts(spec: ClusterSpec): SpecProblem[] {
  const users: { port: number; owner: string; path: string }[] = [
    ...FIXED_PORTS.map((f) => ({ ...f, path: '' })),
    { port: spec.galera.port, owner: 'MariaDB/Galera', path: 'galera.port' },
    { port: spec.galera.clustercheckPort, owner: 'the Galera clustercheck', path: 'galera.clustercheckPort' },
    { port: spec.rabbitmq.port, owner: 'RabbitMQ AMQP', path: 'rabbitmq.port' },
    { port: spec.rabbitmq.distributionPort, owner: 'RabbitMQ distribution', path: 'rabbitmq.distributionPort' },
  ];
  spec.services.forEach((service, i) => {
    if (!isCatalogueService(service.name)) return;
    const r = resolveService(spec, service);
    const field = service.backendPort !== undefined ? 'backendPort' : service.port !== undefined ? 'port' : 'name';
    users.push({ port: r.backendPort, owner: `service ${r.name}`, path: `services[${i}].${field}` });
  });
  const problems: SpecProblem[] = [];
  const taken = new Map<number, string>();
  for (const user of users) {
    const first = taken.get(user.port);
    if (first === undefined) {
      taken.set(user.port, user.owner);
      continue;
    }
    problems.push({
      path: user.path,
      code: 'PORT_COLLISION',
      message: `${user.owner.charAt(0).toUpperCase()}${user.owner.slice(1)} would listen on port ${user.port} of every node, already used by ${first}; set a different backendPort.`,
      severity: 'error',
    });
  }
  return problems;
}
