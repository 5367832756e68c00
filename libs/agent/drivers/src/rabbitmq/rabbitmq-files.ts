/** Pure checks of the rendered RabbitMQ files (3.10 has no command that validates a config offline). */

/** `key = value` lines of a rabbitmq.conf (sysctl format); throws naming the first line that is not one. */
export function parseRabbitmqConf(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^([A-Za-z0-9_.$-]+)\s*=\s*(.*)$/.exec(line);
    if (!m || m[2] === '') throw new Error(`rabbitmq.conf line ${i + 1} is not "key = value": ${line}`);
    entries.set(m[1], m[2]);
  });
  return entries;
}

/** The Erlang node names classic_config peer discovery lists: the members a healthy cluster runs. */
export function classicConfigNodes(conf: Map<string, string>): string[] {
  return [...conf.entries()]
    .filter(([k]) => /^cluster_formation\.classic_config\.nodes\.\d+$/.test(k))
    .sort(([a], [b]) => Number(a.split('.').at(-1)) - Number(b.split('.').at(-1)))
    .map(([, v]) => v);
}

/** Checks a rabbitmq.conf candidate: syntax, and the keys clustering depends on. */
export function checkRabbitmqConf(text: string): void {
  const conf = parseRabbitmqConf(text);
  for (const key of ['listeners.tcp.default', 'cluster_formation.peer_discovery_backend', 'cluster_partition_handling']) {
    if (!conf.has(key)) throw new Error(`rabbitmq.conf has no ${key}`);
  }
  if (conf.get('cluster_formation.peer_discovery_backend') === 'classic_config' && classicConfigNodes(conf).length === 0) {
    throw new Error('rabbitmq.conf uses classic_config peer discovery but lists no nodes');
  }
}

/** rabbitmq-env.conf is sourced by sh: only plain (optionally exported) single-quoted assignments are accepted. */
export function checkRabbitmqEnvConf(text: string): void {
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (!/^(export\s+)?[A-Z_][A-Z0-9_]*='[^']*'$/.test(line)) throw new Error(`rabbitmq-env.conf line ${i + 1} is not a NAME='value' assignment: ${line}`);
  });
}

/** The definitions file must be a JSON object whose vhosts and policies (when present) are arrays. */
export function checkRabbitmqDefinitions(text: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`definitions are not JSON: ${(e as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('definitions are not a JSON object');
  for (const key of ['vhosts', 'policies', 'users', 'permissions', 'queues', 'exchanges', 'bindings']) {
    const v = (parsed as Record<string, unknown>)[key];
    if (v !== undefined && !Array.isArray(v)) throw new Error(`definitions: ${key} is not an array`);
  }
}
