import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '@triad/auth';
import { ClusterRevision, Node, NodeStatus, TenantScopedRepository } from '@triad/db';
import { DEFAULT_HOST_PROFILE, renderCib, renderNode, whatIf, type Artifact, type Placement, type WhatIfReport } from '@triad/render';
import { specNodeNames, validateClusterSpec, type ClusterSpec, type SpecProblem } from '@triad/spec';
import { createTwoFilesPatch } from 'diff';
import { DataSource, In, Not } from 'typeorm';
import { ClusterService } from './cluster.service';

export enum ArtifactChange {
  ADDED = 'ADDED',
  REMOVED = 'REMOVED',
  CHANGED = 'CHANGED',
  UNCHANGED = 'UNCHANGED',
}

export interface PlannedArtifact {
  nodeName: string;
  /** null for a node in the spec that has not enrolled yet. */
  nodeId: string | null;
  artifact: string;
  change: ArtifactChange;
  /** What the node reports as applied (default-profile digest). */
  appliedSha256: string | null;
  desiredSha256: string | null;
  /** Unified diff applied → desired; null when unchanged or when the applied bytes are unknown. */
  diff: string | null;
  /** The desired file (default host profile); null when the file goes away. */
  content: string | null;
}

export interface ClusterPlan {
  clusterId: string;
  currentRevision: number;
  /** No error-severity problem: neither in the spec nor in the what-if. */
  valid: boolean;
  /** Every validation and what-if problem, errors and warnings. */
  problems: SpecProblem[];
  warnings: SpecProblem[];
  artifacts: PlannedArtifact[];
  /** Where every VIP and the promoted Galera go with all nodes up and after losing each one; null when not computed. */
  whatIf: PlanWhatIf | null;
}

export interface PlanPlacement {
  vips: { resource: string; node: string | null }[];
  haproxyNodes: string[];
  galeraPromotedNodes: string[];
}

export interface PlanWhatIf {
  placement: PlanPlacement;
  losses: { lostNode: string; placement: PlanPlacement }[];
  problems: { code: string; lostNode: string | null; resource: string; message: string }[];
}

function toPlanPlacement(p: Placement): PlanPlacement {
  return {
    vips: Object.keys(p.vips)
      .sort()
      .map((resource) => ({ resource, node: p.vips[resource] ?? null })),
    haproxyNodes: [...p.haproxyNodes].sort(),
    galeraPromotedNodes: [...p.galeraPromotedNodes].sort(),
  };
}

function toPlanWhatIf(r: WhatIfReport): PlanWhatIf {
  return {
    placement: toPlanPlacement(r.placement),
    losses: r.losses.map((l) => ({ lostNode: l.lostNode, placement: toPlanPlacement(l.placement) })),
    problems: r.problems.map((p) => ({ code: p.code, lostNode: p.lostNode ?? null, resource: p.resource, message: p.message })),
  };
}


type RenderedFiles = Map<string, Artifact>;

const byName = (artifacts: Artifact[]): RenderedFiles => new Map(artifacts.map((a) => [a.name, a]));

/**
 * `planCluster`: what applying a spec would change on every node, file by file, against what
 * each node reports as applied — like `terraform plan`, and like it, writes nothing.
 */
@Injectable()
export class ClusterPlanService {
  private readonly nodes: TenantScopedRepository<Node>;
  private readonly revisions: TenantScopedRepository<ClusterRevision>;

  constructor(
    @Inject(DataSource) dataSource: DataSource,
    @Inject(ClusterService) private readonly clusters: ClusterService,
  ) {
    this.nodes = new TenantScopedRepository(dataSource.manager, Node);
    this.revisions = new TenantScopedRepository(dataSource.manager, ClusterRevision);
  }

  async plan(principal: Principal, clusterId: string, input: unknown): Promise<ClusterPlan> {
    const cluster = await this.clusters.get(principal, clusterId, 'clusterId');
    const { spec, problems } = validateClusterSpec(input);
    const warnings = problems.filter((p) => p.severity === 'warning');
    if (!spec) return { clusterId, currentRevision: cluster.currentRevision, valid: false, problems, warnings, artifacts: [], whatIf: null };
    const nodes = await this.nodes.find(principal.tenantId, { clusterId, status: Not(NodeStatus.DECOMMISSIONED) }, { name: 'ASC' });
    const appliedSpecs = await this.appliedSpecs(principal.tenantId, clusterId, nodes);

    const desiredNames = specNodeNames(spec);
    const nodeByName = new Map(nodes.map((n) => [n.name, n]));
    const names = [...new Set([...desiredNames, ...nodeByName.keys()])].sort();
    const artifacts = names.flatMap((name) => {
      const node = nodeByName.get(name) ?? null;
      const desired = desiredNames.includes(name) ? byName(renderNode(spec, name, DEFAULT_HOST_PROFILE)) : new Map<string, Artifact>();
      const appliedSpec = node ? appliedSpecs.get(node.appliedRevision) : undefined;
      const appliedFiles = appliedSpec && specNodeNames(appliedSpec).includes(name) ? byName(renderNode(appliedSpec, name, DEFAULT_HOST_PROFILE)) : new Map<string, Artifact>();
      return planNode(name, node, desired, appliedFiles);
    });
    const { report, problems: whatIfProblems } = await this.simulate(spec);
    const all = [...problems, ...whatIfProblems];
    return {
      clusterId,
      currentRevision: cluster.currentRevision,
      valid: !all.some((p) => p.severity === 'error'),
      problems: all,
      warnings: all.filter((p) => p.severity === 'warning'),
      artifacts,
      whatIf: report,
    };
  }

  /**
   * The what-if: crm_simulate places the rendered CIB, then loses each node in turn. A VIP or the
   * Galera promoted role left without a home is an error of the plan.
   */
  private async simulate(spec: ClusterSpec): Promise<{ report: PlanWhatIf | null; problems: SpecProblem[] }> {
    try {
      const nodes = specNodeNames(spec);
      // The CIB is cluster-wide: every node renders the same one.
      const report = await whatIf(renderCib(spec, nodes[0] ?? '').content, nodes);
      const problems = report.problems.map<SpecProblem>((p) => ({
        path: 'topology.nodes',
        code: p.code,
        message: p.lostNode ? `If ${p.lostNode} is lost: ${p.message}` : p.message,
        severity: 'error',
      }));
      return { report: toPlanWhatIf(report), problems };
    } catch (e) {
      // Without crm_simulate (or on its failure) the plan is still useful; it says what it could not check.
      return {
        report: null,
        problems: [{ path: 'pacemaker', code: 'WHAT_IF_UNAVAILABLE', message: `The failover simulation could not run (${(e as Error).message}); placement after a node loss is unchecked.`, severity: 'warning' }],
      };
    }
  }

  /** The specs of the revisions the nodes report as applied, by revision number. */
  private async appliedSpecs(tenantId: string, clusterId: string, nodes: Node[]): Promise<Map<number, ClusterSpec>> {
    const numbers = [...new Set(nodes.map((n) => n.appliedRevision).filter((r) => r > 0))];
    if (numbers.length === 0) return new Map();
    const revisions = await this.revisions.find(tenantId, { clusterId, revision: In(numbers) });
    const specs = new Map<number, ClusterSpec>();
    for (const r of revisions) {
      // Stored specs passed validation when written; a spec today's rules reject cannot be re-rendered.
      const { spec } = validateClusterSpec(r.spec);
      if (spec) specs.set(r.revision, spec);
    }
    return specs;
  }
}

function planNode(name: string, node: Node | null, desired: RenderedFiles, appliedRender: RenderedFiles): PlannedArtifact[] {
  const reported = node?.appliedArtifacts ?? {};
  const files = [...new Set([...desired.keys(), ...Object.keys(reported)])].sort();
  return files.map((file) => {
    const want = desired.get(file);
    const appliedSha256 = reported[file] ?? null;
    const desiredSha256 = want?.sha256 ?? null;
    const change = !appliedSha256 ? ArtifactChange.ADDED : !want ? ArtifactChange.REMOVED : appliedSha256 === desiredSha256 ? ArtifactChange.UNCHANGED : ArtifactChange.CHANGED;
    // The old bytes are known only if re-rendering the applied revision gives what the node reports.
    const had = appliedSha256 ? appliedRender.get(file) : undefined;
    const oldContent = !appliedSha256 ? '' : had?.sha256 === appliedSha256 ? had.content : null;
    const diff = change === ArtifactChange.UNCHANGED || oldContent === null ? null : createTwoFilesPatch(`a/${name}/${file}`, `b/${name}/${file}`, oldContent, want?.content ?? '');
    return { nodeName: name, nodeId: node?.id ?? null, artifact: file, change, appliedSha256, desiredSha256, diff, content: want?.content ?? null };
  });
}
