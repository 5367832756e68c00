import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { CHANGED_ON_DISK, type ArtifactDigest, type VerifiedCommand } from '@triad/protocol';
import { DEFAULT_HOST_PROFILE, renderNode, type HostProfile } from '@triad/render';
import { validateClusterSpec } from '@triad/spec';
import type { Logger } from '@triad/logging';
import type { AppliedStateStore } from './applied-state';
import type { AgentConfig } from './config';
import type { CommandResult } from './command-runner';
import { applyArtifact, type ComponentDriver } from './component-driver';
import { AGENT_VERSION } from './facts';

type ApplyRevisionCommand = Extract<VerifiedCommand, { verb: 'apply_revision' }>;

/** Live configuration files are small; anything bigger is not what the agent wrote, and is not read. */
const MAX_LIVE_FILE_BYTES = 4 * 1024 * 1024;

/**
 * sha256 of live files, read again only when the file's identity, size or times changed since the
 * last read: every heartbeat asks, and the files almost never change. `missing` when a file is
 * gone, `unreadable (<why>)` when it cannot be read or is not a regular file of a sane size (a FIFO
 * put in its place must not block the heartbeat).
 */
class LiveFileDigests {
  private readonly seen = new Map<string, { stamp: string; digest: string }>();

  async of(path: string): Promise<string> {
    try {
      const st = await stat(path, { bigint: true });
      if (!st.isFile()) return 'unreadable (not a regular file)';
      if (st.size > MAX_LIVE_FILE_BYTES) return `unreadable (${st.size} bytes)`;
      const stamp = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
      const cached = this.seen.get(path);
      if (cached?.stamp === stamp) return cached.digest;
      const digest = createHash('sha256').update(await readFile(path)).digest('hex');
      this.seen.set(path, { stamp, digest });
      return digest;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return code === 'ENOENT' ? 'missing' : `unreadable (${code ?? 'error'})`;
    }
  }
}

/**
 * apply_revision: render the node's artifacts from the spec exactly as the control plane did
 * (default host profile) and check the digests match — the same renderer, so a mismatch means
 * this agent's renderer differs from the control plane's — then render with this node's own host
 * profile and apply each artifact through its driver.
 */
export class RevisionApplier {
  constructor(
    private readonly deps: {
      nodeName: string;
      drivers: ComponentDriver[];
      profile: HostProfile;
      applied: AppliedStateStore;
    },
  ) {
    this.liveFiles = new Map(deps.drivers.filter((d) => d.liveFile).map((d) => [d.artifact, d.liveFile as string]));
  }

  /** Artifact → the live file its driver installs (drivers without one, the CIB, are not hashed). */
  private readonly liveFiles: ReadonlyMap<string, string>;
  private readonly digests = new LiveFileDigests();
  /** An apply is changing live files: what is on disk now is not drift. */
  private applying = false;

  /**
   * What the node reports as applied (Hello, every heartbeat): each artifact's revision digest, or
   * `changed-on-disk:<sha256 | missing>` when its live file is no longer what this agent wrote —
   * edited or removed behind Triad's back. The control plane sees it differ from the revision
   * (CONFIG_DRIFT) and re-applies; files a component owns itself (the CIB) are not checked.
   */
  async reportedDigests(): Promise<ArtifactDigest[]> {
    const { artifacts, written } = this.deps.applied.current;
    const out: ArtifactDigest[] = [];
    for (const [name, sha256] of Object.entries(artifacts).sort(([a], [b]) => a.localeCompare(b))) {
      const path = this.liveFiles.get(name);
      const want = written[name];
      if (!path || !want || this.applying) {
        out.push({ name, sha256 });
        continue;
      }
      const now = await this.digests.of(path);
      // An apply that began while the file was read may have changed it: not drift either.
      out.push({ name, sha256: now === want || this.applying ? sha256 : `${CHANGED_ON_DISK}${now}` });
    }
    return out;
  }

  async apply(command: ApplyRevisionCommand, logger: Logger): Promise<CommandResult> {
    this.applying = true;
    try {
      return await this.applyRevision(command, logger);
    } finally {
      this.applying = false;
    }
  }

  private async applyRevision(command: ApplyRevisionCommand, logger: Logger): Promise<CommandResult> {
    const { params } = command;
    if (params.nodeName !== this.deps.nodeName) {
      throw new Error(`the command renders node "${params.nodeName}" but this node is "${this.deps.nodeName}"`);
    }
    const { spec, problems } = validateClusterSpec(params.spec);
    if (!spec) {
      const errors = problems.filter((p) => p.severity === 'error').map((p) => `${p.path || '(spec)'}: ${p.message}`);
      throw new Error(`the revision's spec is invalid: ${errors.join('; ')}`);
    }

    const wanted = new Map(params.artifacts.map((a) => [a.name, a.sha256]));
    const drivers = this.deps.drivers.filter((d) => wanted.has(d.artifact));
    const reference = new Map(renderNode(spec, params.nodeName, DEFAULT_HOST_PROFILE).map((a) => [a.name as string, a]));
    for (const d of drivers) {
      const ours = reference.get(d.artifact)?.sha256;
      if (ours !== wanted.get(d.artifact)) {
        throw new Error(
          `renderer version skew: ${d.artifact} renders here (agent ${AGENT_VERSION}) as ${ours ?? 'nothing'} but the revision says ${wanted.get(d.artifact)}; upgrade the agent or the control plane so both run the same renderer`,
        );
      }
    }

    const local = new Map(renderNode(spec, params.nodeName, this.deps.profile).map((a) => [a.name as string, a]));
    const applied: { name: string; sha256: string }[] = [];
    const written: Record<string, string> = {};
    for (const d of drivers) {
      const artifact = local.get(d.artifact);
      if (!artifact) throw new Error(`the renderer produced no ${d.artifact} for this node`);
      logger.info({ artifact: d.artifact, sha256: artifact.sha256 }, 'applying artifact');
      await applyArtifact(d, artifact.content, logger);
      applied.push({ name: d.artifact, sha256: wanted.get(d.artifact) as string });
      // As the driver left it (a driver may add to what was rendered): the baseline for drift.
      if (d.liveFile) written[d.artifact] = await this.digests.of(d.liveFile);
    }

    const before = this.deps.applied.current;
    await this.deps.applied.set({
      revision: params.revision,
      generation: command.generation,
      artifacts: { ...before.artifacts, ...Object.fromEntries(applied.map((a) => [a.name, a.sha256])) },
      written: { ...before.written, ...written },
    });
    return {
      message: applied.length
        ? `revision ${params.revision} applied: ${applied.map((a) => a.name).join(', ')}`
        : `revision ${params.revision} has no artifact this agent applies`,
      revision: params.revision,
      artifacts: applied,
    };
  }
}

/**
 * This node's host profile: the defaults, with what the agent is configured with (sockets, bind
 * address, maxconn, syslog). In `external` mode the CIB's haproxy resource gets the master socket
 * the agent reloads through, so the rendered files are exactly what runs.
 */
export function nodeHostProfile(haproxy: AgentConfig['haproxy'], galera?: Pick<AgentConfig['galera'], 'serverBinary'>): HostProfile {
  return {
    ...DEFAULT_HOST_PROFILE,
    galera: { ...DEFAULT_HOST_PROFILE.galera, ...(galera?.serverBinary ? { serverBinary: galera.serverBinary } : {}) },
    haproxy: {
      ...DEFAULT_HOST_PROFILE.haproxy,
      configPath: haproxy.configFile,
      statsSocket: haproxy.statsSocket,
      bindAddressOverride: haproxy.bindAddress,
      logTarget: haproxy.logTarget,
      ...(haproxy.mode === 'external' ? { masterSocket: haproxy.masterSocket } : {}),
      ...(haproxy.maxconn !== undefined ? { maxconn: haproxy.maxconn } : {}),
    },
  };
}
