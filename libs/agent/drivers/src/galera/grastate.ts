/** A Galera position: the cluster state uuid and the last committed seqno (-1 when unknown). */
export interface GaleraPosition {
  uuid: string;
  seqno: number;
}

export interface Grastate extends GaleraPosition {
  /** Set by Galera on the last node to leave a cluster cleanly: it may bootstrap without losing writes. */
  safeToBootstrap: boolean;
}

/** Pure: parses grastate.dat (`uuid:`, `seqno:`, `safe_to_bootstrap:` lines). */
export function parseGrastate(text: string): Grastate {
  const field = (name: string): string | undefined => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(text)?.[1];
  const uuid = field('uuid');
  const seqno = field('seqno');
  if (uuid === undefined || seqno === undefined || !/^-?\d+$/.test(seqno)) throw new Error('grastate.dat has no uuid or seqno');
  return { uuid, seqno: Number(seqno), safeToBootstrap: field('safe_to_bootstrap') === '1' };
}

/** Pure: grastate.dat with safe_to_bootstrap set to 1 (the line is added when the file has none). */
export function withSafeToBootstrap(text: string): string {
  return /^safe_to_bootstrap:/m.test(text) ? text.replace(/^safe_to_bootstrap:.*$/m, 'safe_to_bootstrap: 1') : `${text.replace(/\n?$/, '\n')}safe_to_bootstrap: 1\n`;
}

/** Pure: the position `mariadbd --wsrep-recover` logged (`WSREP: Recovered position: uuid:seqno`), the last one when several. */
export function parseRecoveredPosition(log: string): GaleraPosition | undefined {
  const all = [...log.matchAll(/WSREP: Recovered position:?\s+([0-9a-f-]{36}):(-?\d+)/g)];
  const last = all.at(-1);
  return last ? { uuid: last[1], seqno: Number(last[2]) } : undefined;
}

export function formatPosition(p: GaleraPosition): string {
  return `${p.uuid}:${p.seqno}`;
}
