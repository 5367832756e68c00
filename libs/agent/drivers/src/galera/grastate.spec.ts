import { parseGrastate, parseRecoveredPosition, withSafeToBootstrap } from './grastate';

const crashed = '# GALERA saved state\nversion: 2.1\nuuid:    399fc32b-e797-11f1-be90-87846b2d7fb6\nseqno:   -1\nsafe_to_bootstrap: 0\n';

describe(parseGrastate.name, () => {
  it('reads uuid, seqno and safe_to_bootstrap of a crashed node', () => {
    expect(parseGrastate(crashed)).toEqual({ uuid: '399fc32b-e797-11f1-be90-87846b2d7fb6', seqno: -1, safeToBootstrap: false });
  });

  it('refuses a file without a position', () => {
    expect(() => parseGrastate('# GALERA saved state\n')).toThrow('no uuid or seqno');
  });
});

describe(withSafeToBootstrap.name, () => {
  it('sets safe_to_bootstrap to 1 and leaves the rest', () => {
    expect(parseGrastate(withSafeToBootstrap(crashed))).toEqual({ uuid: '399fc32b-e797-11f1-be90-87846b2d7fb6', seqno: -1, safeToBootstrap: true });
    expect(withSafeToBootstrap('uuid: u\nseqno: 3')).toBe('uuid: u\nseqno: 3\nsafe_to_bootstrap: 1\n');
  });
});

describe(parseRecoveredPosition.name, () => {
  it('finds the position mariadbd --wsrep-recover logged', () => {
    const log = '2026-11-23 23:40:01 0 [Note] InnoDB: Starting recovery\n2026-11-23 23:40:01 0 [Note] WSREP: Recovered position: 399fc32b-e797-11f1-be90-87846b2d7fb6:10\n';
    expect(parseRecoveredPosition(log)).toEqual({ uuid: '399fc32b-e797-11f1-be90-87846b2d7fb6', seqno: 10 });
    expect(parseRecoveredPosition('[ERROR] Aborting')).toBeUndefined();
  });
});
