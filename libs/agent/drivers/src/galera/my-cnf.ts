/** Option groups mariadbd reads (later ones win); galera.cnf uses [mysqld] and [galera]. */
const SERVER_GROUPS = new Set(['mysqld', 'server', 'mariadb', 'mariadbd', 'galera']);

/**
 * Pure: the server options of a my.cnf text, last value wins, names normalised to `_`
 * (`log-error` and `log_error` are one option for MariaDB). Includes are not followed.
 */
export function myCnfServerOptions(cnf: string): Map<string, string> {
  const options = new Map<string, string>();
  let inServerGroup = false;
  for (const raw of cnf.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';') || line.startsWith('!')) continue;
    const group = /^\[(.+)\]$/.exec(line);
    if (group) {
      inServerGroup = SERVER_GROUPS.has(group[1].trim());
      continue;
    }
    if (!inServerGroup) continue;
    const eq = line.indexOf('=');
    const name = (eq < 0 ? line : line.slice(0, eq)).trim().replace(/-/g, '_');
    const value = eq < 0 ? '' : line.slice(eq + 1).trim();
    options.set(name, /^(["']).*\1$/.test(value) ? value.slice(1, -1) : value);
  }
  return options;
}

/** What applying a new galera.cnf to a running mariadbd takes. */
export type GaleraChangePlan = { kind: 'none' } | { kind: 'set-global'; variables: Record<string, string> } | { kind: 'restart'; reason: string };

/**
 * Options mariadbd accepts at runtime with SET GLOBAL (numeric values only), so a change of these
 * alone needs no restart. Everything else in galera.cnf (addresses, provider options, datadir,
 * wsrep membership) is read at start.
 */
const DYNAMIC_NUMERIC_OPTIONS = new Set(['max_connections', 'wsrep_slave_threads', 'innodb_flush_log_at_trx_commit']);

/**
 * Pure: decides how a running node takes a new galera.cnf. Only the option values count (comments,
 * order and the rendered header do not); a changed include line counts as a restart.
 */
export function galeraChangePlan(before: string, after: string): GaleraChangePlan {
  const a = myCnfServerOptions(before);
  const b = myCnfServerOptions(after);
  const includes = (t: string) => t.split('\n').filter((l) => l.trim().startsWith('!')).join('\n');
  if (includes(before) !== includes(after)) return { kind: 'restart', reason: 'the !include lines changed' };
  const names = new Set([...a.keys(), ...b.keys()]);
  const variables: Record<string, string> = {};
  const needsRestart: string[] = [];
  for (const name of names) {
    const old = a.get(name);
    const value = b.get(name);
    if (old === value) continue;
    if (DYNAMIC_NUMERIC_OPTIONS.has(name) && value !== undefined && /^\d+$/.test(value)) variables[name] = value;
    else needsRestart.push(name);
  }
  if (needsRestart.length) return { kind: 'restart', reason: `changed options read only at start: ${needsRestart.sort().join(', ')}` };
  if (Object.keys(variables).length) return { kind: 'set-global', variables };
  return { kind: 'none' };
}

/** Pure: the members `wsrep_cluster_address = gcomm://a,b,c?opts` lists, undefined when it is not a gcomm address. */
export function gcommMembers(clusterAddress: string | undefined): string[] | undefined {
  const m = /^gcomm:\/\/(.*)$/.exec(clusterAddress ?? '');
  if (!m) return undefined;
  const list = m[1].split('?')[0];
  return list === '' ? [] : list.split(',');
}

/** Pure: how many members `wsrep_cluster_address` lists (the size a healthy cluster has). */
export function gcommMemberCount(clusterAddress: string | undefined): number | undefined {
  return gcommMembers(clusterAddress)?.length;
}
