import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_HOST_PROFILE } from '@triad/render';
import { AppliedStateStore } from './applied-state';
import type { ComponentDriver } from './component-driver';
import { RevisionApplier } from './revision-applier';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('RevisionApplier.reportedDigests (drift of live files)', () => {
  let dir: string;
  let cfg: string;
  let applier: RevisionApplier;
  const written = 'global\n  maxconn 100\n';

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'triad-drift-'));
    cfg = join(dir, 'haproxy.cfg');
    writeFileSync(cfg, written);
    const applied = await AppliedStateStore.open(dir);
    await applied.set({ revision: 4, generation: 9, artifacts: { 'cib.xml': 'rev-cib', 'haproxy.cfg': 'rev-haproxy' }, written: { 'haproxy.cfg': sha(written) } });
    // Only what reportedDigests reads of a driver: its artifact and live file (the CIB has none: Pacemaker owns it).
    const drivers = [{ artifact: 'haproxy.cfg', liveFile: cfg }, { artifact: 'cib.xml' }] as ComponentDriver[];
    applier = new RevisionApplier({ nodeName: 'controller-1', drivers, profile: DEFAULT_HOST_PROFILE, applied });
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reports the revision digests while the live file is what the agent wrote', async () => {
    expect(await applier.reportedDigests()).toEqual([
      { name: 'cib.xml', sha256: 'rev-cib' },
      { name: 'haproxy.cfg', sha256: 'rev-haproxy' },
    ]);
  });

  it('reports a file edited, removed or replaced by something unreadable behind its back', async () => {
    writeFileSync(cfg, `${written}# by hand\n`);
    expect((await applier.reportedDigests())[1]).toEqual({ name: 'haproxy.cfg', sha256: `changed-on-disk:${sha(`${written}# by hand\n`)}` });

    unlinkSync(cfg);
    expect((await applier.reportedDigests())[1]).toEqual({ name: 'haproxy.cfg', sha256: 'changed-on-disk:missing' });

    // A FIFO in its place must not block the heartbeat that hashes it.
    execFileSync('mkfifo', [cfg]);
    expect((await applier.reportedDigests())[1]).toEqual({ name: 'haproxy.cfg', sha256: 'changed-on-disk:unreadable (not a regular file)' });

    // The CIB is never hashed.
    expect((await applier.reportedDigests())[0]).toEqual({ name: 'cib.xml', sha256: 'rev-cib' });
  });
});
