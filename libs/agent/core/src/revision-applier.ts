import type { VerifiedCommand } from '@triad/protocol';
import { DEFAULT_HOST_PROFILE, renderNode, type HostProfile } from '@triad/render';
import { validateClusterSpec } from '@triad/spec';
import type { Logger } from '@triad/logging';
import type { AppliedStateStore } from './applied-state';
import type { AgentConfig } from './config';
import type { CommandResult } from './command-runner';
import { applyArtifact, type ComponentDriver } from './component-driver';
import { AGENT_VERSION } from './facts';

type ApplyRevisionCommand = Extract<VerifiedCommand, { verb: 'apply_revision' }>;

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
  ) {}

  async apply(command: ApplyRevisionCommand, logger: Logger): Promise<CommandResult> {
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
    for (const d of drivers) {
      const artifact = local.get(d.artifact);
      if (!artifact) throw new Error(`the renderer produced no ${d.artifact} for this node`);
      logger.info({ artifact: d.artifact, sha256: artifact.sha256 }, 'applying artifact');
      await applyArtifact(d, artifact.content, logger);
      applied.push({ name: d.artifact, sha256: wanted.get(d.artifact) as string });
    }

    const before = this.deps.applied.current;
    await this.deps.applied.set({
      revision: params.revision,
      generation: command.generation,
      artifacts: { ...before.artifacts, ...Object.fromEntries(applied.map((a) => [a.name, a.sha256])) },
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
