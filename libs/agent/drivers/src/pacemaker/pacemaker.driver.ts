import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DriverError, readFileIfExists, runFile, sleep, writeFileAtomic, type ComponentDriver } from '@triad/agent-core';
import type { ComponentHealth } from '@triad/protocol';
import type { Logger } from '@triad/logging';
import { CrmMonError, failedActionKey, pacemakerHealth, parseCrmMon, type PacemakerStatus } from '../probes/pacemaker-status';
import {
  cibVersion,
  cibWithConfiguration,
  configurationOf,
  configurationsEqual,
  configuredResourceIds,
  desiredConfiguration,
  formatCibVersion,
  holdsFor,
  primitiveIdsOf,
  primitivesToRun,
  sameConfigurationVersion,
  START_ONLY_PARAMETERS,
  withHolds,
  withoutHolds,
} from './cib-document';
import { CLUSTER_TOOLS, runOnThisNode, toolOutput, type ToolRunner } from './cluster-tools';
import { describeProbe, nodesAwaitingProbe, probeSnapshot, recordedProbes } from './probe-history';
import { parseXml, serializeXml, type XmlElement } from './xml-tree';

export interface PacemakerDriverOptions {
  /** This node's Pacemaker node name (health is reported from its point of view). */
  nodeName: string;
  /** Private directory: the staged CIB, the patch, and the configuration before the last push. */
  workDir: string;
  logger: Logger;
  /** A file-backed CIB (Pacemaker's `CIB_file`) instead of the running cluster: offline use, tests. */
  cibFile?: string;
  /** How tools reach the cluster; default: run them on this node. */
  run?: ToolRunner;
  /** Live cluster: how long the check after a push waits for the resources to start (default 30 s). */
  checkTimeoutMs?: number;
  /** Agent parameters read only at start (default `START_ONLY_PARAMETERS`): their change alone restarts nothing. */
  startOnlyParameters?: Readonly<Record<string, readonly string[]>>;
  /** Live cluster: how long a refresh waits for the held resource's probes (default 120 s). */
  probeTimeoutMs?: number;
}

/** A push is retried this often when only the status section changed meanwhile. */
const PUSH_ATTEMPTS = 5;
const TOOL_TIMEOUT_MS = 30_000;
const CHECK_POLL_MS = 1_000;

interface Pending {
  /** The live CIB the candidate was built from: the push is refused if its configuration changed since. */
  live: XmlElement;
  configuration: XmlElement;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Pacemaker's CIB, configuration section only. Never a blind replace:
 * stage: read the live CIB, build the candidate (rendered configuration + what the cluster owns +
 * the live status) → validate: `crm_verify` → swap: keep the live CIB as the previous one and push
 * the difference as a versioned patch (`crm_diff` → `cibadmin --patch`): Pacemaker applies it only
 * to the exact CIB version it was computed against, so a configuration someone changed in between
 * is never overwritten (a resource whose change is start-only is held meanwhile: `push`) →
 * check: `crm_mon` shows every configured resource and no new failed action → roll back: the
 * previous configuration, pushed the same way.
 */
export class PacemakerDriver implements ComponentDriver {
  readonly component = 'pacemaker';
  readonly artifact = 'cib.xml';
  private readonly run: ToolRunner;
  private readonly env: Record<string, string> | undefined;
  private readonly checkTimeoutMs: number;
  private readonly startOnly: Readonly<Record<string, readonly string[]>>;
  private pending: Pending | undefined;
  /** Failed actions present before the push: only new ones fail the check. */
  private failuresBefore = new Set<string>();

  constructor(private readonly opts: PacemakerDriverOptions) {
    this.run = opts.run ?? runOnThisNode;
    this.env = opts.cibFile ? { CIB_file: opts.cibFile } : undefined;
    this.checkTimeoutMs = opts.checkTimeoutMs ?? 30_000;
    this.startOnly = opts.startOnlyParameters ?? START_ONLY_PARAMETERS;
  }

  private get stagedFile(): string {
    return join(this.opts.workDir, 'cib.staged.xml');
  }
  /** The whole CIB as it was before the last push: what rollback restores the configuration of. */
  get previousFile(): string {
    return join(this.opts.workDir, 'cib.previous.xml');
  }

  async start(): Promise<void> {
    await mkdir(this.opts.workDir, { recursive: true, mode: 0o700 });
  }

  async stop(): Promise<void> {
    // Pacemaker is not the agent's child: nothing to stop.
  }

  async version(): Promise<string | undefined> {
    try {
      return /Pacemaker (\S+)/.exec((await runFile(CLUSTER_TOOLS.crmMon, ['--version'], 5_000)).stdout)?.[1];
    } catch {
      return undefined;
    }
  }

  async stage(content: string): Promise<void> {
    let rendered: XmlElement;
    try {
      rendered = parseXml(content);
      configurationOf(rendered);
    } catch (e) {
      throw new DriverError('stage', `the rendered cib.xml is not a CIB: ${errorMessage(e)}`);
    }
    const live = await this.queryCib('stage');
    const configuration = desiredConfiguration(live, rendered);
    await mkdir(this.opts.workDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.stagedFile, serializeXml(cibWithConfiguration(live, configuration)), 0o600);
    this.pending = { live, configuration };
  }

  async validate(): Promise<void> {
    const pending = this.pending;
    if (!pending) throw new DriverError('validate', 'nothing staged');
    // The configuration alone: with the live status, crm_verify also fails on the cluster's current
    // state (an unclean node, no quorum), and a degraded cluster must still take a new configuration.
    const configurationOnly = serializeXml({ ...pending.live, children: [pending.configuration] });
    const r = await runFile(CLUSTER_TOOLS.crmVerify, ['--xml-pipe'], TOOL_TIMEOUT_MS, { input: configurationOnly });
    if (r.code !== 0) throw new DriverError('validate', `crm_verify rejected the CIB: ${toolOutput(r)}`);
    // What the cluster would do with it, for the log (crm_simulate reads the staged file only).
    const sim = await runFile(CLUSTER_TOOLS.crmSimulate, ['--xml-file', this.stagedFile, '--simulate'], TOOL_TIMEOUT_MS).catch(() => undefined);
    const summary = /Transition Summary:\n([\s\S]*?)(?:\nExecuting Cluster Transition:|$)/.exec(sim?.stdout ?? '')?.[1]?.trim();
    if (!summary) return;
    const held = holdsFor(configurationOf(pending.live), pending.configuration, this.startOnly);
    const transition = summary.split('\n').map((l) => l.trim());
    if (held.length === 0) this.opts.logger.info({ transition }, 'what the cluster will do with the new CIB');
    // The simulation sees the plain push: the swap holds these resources, so their restarts do not happen.
    else this.opts.logger.info({ transition, held }, 'what the cluster would do with the new CIB pushed as is (the swap holds the resources whose change is start-only)');
  }

  async discardStaged(): Promise<void> {
    this.pending = undefined;
    await rm(this.stagedFile, { force: true });
  }

  async swap(): Promise<void> {
    const pending = this.pending;
    if (!pending) throw new DriverError('swap', 'nothing staged');
    await writeFileAtomic(this.previousFile, serializeXml(pending.live), 0o600);
    this.failuresBefore = new Set((await this.status().catch(() => undefined))?.failedActions.map(failedActionKey) ?? []);
    if (configurationsEqual(configurationOf(pending.live), pending.configuration)) {
      this.opts.logger.info({ version: formatCibVersion(cibVersion(pending.live)) }, 'the live CIB already has this configuration; nothing to push');
    } else {
      const version = await this.push(pending.live, pending.configuration, 'swap');
      this.opts.logger.info({ version }, 'CIB configuration pushed');
    }
    await rm(this.stagedFile, { force: true });
  }

  async reload(): Promise<void> {
    // Pacemaker acts on a new CIB by itself: the DC computes and runs a transition.
  }

  async check(): Promise<void> {
    const configuration = this.pending?.configuration;
    if (!configuration) throw new DriverError('check', 'no pushed configuration to check');
    await this.checkConfiguration(configuration);
  }

  async rollback(): Promise<string> {
    const text = await readFileIfExists(this.previousFile);
    if (text === undefined) throw new DriverError('rollback', 'no previous CIB was kept');
    const live = await this.queryCib('rollback');
    const configuration = desiredConfiguration(live, parseXml(text));
    this.pending = { live, configuration };
    if (configurationsEqual(configurationOf(live), configuration)) return 'the live CIB still had the previous configuration';
    const version = await this.push(live, configuration, 'rollback');
    await this.checkConfiguration(configuration);
    return `the previous CIB configuration was restored (CIB ${version})`;
  }

  async probe(): Promise<ComponentHealth> {
    const health = (state: ComponentHealth['state'], summary: string): ComponentHealth => ({ component: this.component, state, summary, detailJson: '' });
    let status: PacemakerStatus;
    try {
      status = await this.status();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return health('COMPONENT_NOT_CONFIGURED', 'pacemaker is not installed (no crm_mon)');
      if (e instanceof CrmMonError) return health('COMPONENT_DOWN', `pacemaker does not answer on this node: ${e.message}`);
      return health('COMPONENT_UNKNOWN', `could not read crm_mon: ${errorMessage(e)}`);
    }
    return pacemakerHealth(status, this.opts.nodeName);
  }

  /** The cluster's status (`crm_mon --output-as=xml --one-shot`) as this node sees it. */
  async status(): Promise<PacemakerStatus> {
    const r = await this.run(CLUSTER_TOOLS.crmMon, ['--output-as=xml', '--one-shot'], { timeoutMs: 15_000, env: this.env });
    if (!r.stdout.includes('<pacemaker-result')) throw new CrmMonError(r.code, toolOutput(r) || `crm_mon exited with ${r.code}`);
    return parseCrmMon(r.stdout);
  }

  // --- operations remediation uses (run_action); resource ids are checked by the protocol schema ---

  /**
   * `crm_resource --cleanup --resource <id>`: forgets the resource's failed operations and fail
   * counts on every node, so Pacemaker places it again. Resolves with crm_resource's own words.
   */
  async cleanup(resource: string): Promise<string> {
    return this.tool(CLUSTER_TOOLS.crmResource, ['--cleanup', '--resource', resource], `crm_resource --cleanup --resource ${resource}`);
  }

  /**
   * Sets the resource's `is-managed` meta attribute: false takes it out of Pacemaker's hands (it
   * neither starts nor stops it). Giving it back first re-probes it (refreshProbes, as the
   * start-only-parameter hold does: `crm_resource --refresh`, then every online node's probe): what Triad started meanwhile (a bootstrapped Galera member)
   * is then recorded as it is — running, promoted — instead of Pacemaker's next monitor finding
   * "unexpectedly promoted" and recovering it by a restart.
   */
  async setManaged(resource: string, managed: boolean): Promise<string> {
    // Best effort (refreshProbes): a resource is never left unmanaged because its re-probe failed.
    const reprobed = managed ? await this.refreshProbes(resource, primitiveIdsOf(configurationOf(await this.queryCib('swap')), resource), 'swap') : undefined;
    const output = await this.tool(
      CLUSTER_TOOLS.crmResource,
      ['--resource', resource, '--meta', '--set-parameter', 'is-managed', '--parameter-value', String(managed)],
      `crm_resource --resource ${resource} --meta --set-parameter is-managed --parameter-value ${managed}`,
    );
    return reprobed === undefined ? output : `${reprobed === true ? 're-probed first' : `re-probe before giving it back did not finish: ${reprobed}`}; ${output}`;
  }

  /** The cluster property `maintenance-mode`: while true Pacemaker manages no resource (it only monitors). */
  async setMaintenance(on: boolean): Promise<string> {
    return this.tool(CLUSTER_TOOLS.crmAttribute, ['--type', 'crm_config', '--name', 'maintenance-mode', '--update', String(on)], `crm_attribute --type crm_config --name maintenance-mode --update ${on}`);
  }

  private async tool(bin: string, args: string[], what: string): Promise<string> {
    const r = await this.run(bin, args, { timeoutMs: TOOL_TIMEOUT_MS, env: this.env });
    if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}): ${toolOutput(r)}`);
    return toolOutput(r) || `${what}: done`;
  }

  private async queryCib(step: 'stage' | 'swap' | 'rollback'): Promise<XmlElement> {
    const r = await this.run(CLUSTER_TOOLS.cibadmin, ['--query'], { timeoutMs: TOOL_TIMEOUT_MS, env: this.env });
    if (r.code !== 0) throw new DriverError(step, `cannot read the live CIB (cibadmin --query exited ${r.code}): ${toolOutput(r)}`);
    return parseXml(r.stdout);
  }

  /**
   * Pushes `configuration` over `live`. When a resource changes only in parameters its agent reads
   * at start (`START_ONLY_PARAMETERS`: Galera's membership), Pacemaker would restart every instance
   * of it (a new parameter digest, no reload in the agent). Instead: (1) push the configuration with
   * that resource unmanaged (`is-managed=false`, the hold) in the same patch, so the DC schedules
   * no restart; (2) `crm_resource --refresh` it, so every node's probe records the running instance
   * against the new parameters; (3) wait for those probes; (4) remove the hold: the history now
   * matches the configuration and nothing restarts. The live CIB ends exactly as `configuration`.
   * An apply that stops after (1) leaves the hold in the live CIB; the next push sees it and runs
   * (2)–(4) before giving the resource back. Resolves with the CIB version.
   */
  private async push(live: XmlElement, configuration: XmlElement, step: 'swap' | 'rollback'): Promise<string> {
    const holds = holdsFor(configurationOf(live), configuration, this.startOnly);
    if (holds.length === 0) return formatCibVersion(cibVersion(await this.pushGuarded(live, configuration, step)));
    this.opts.logger.info({ resources: holds }, 'only parameters read at start change: pushing them with the resource unmanaged, then refreshing its probes, so its running instances are not restarted');
    const held = withHolds(configuration, holds);
    if (!configurationsEqual(configurationOf(live), held)) await this.pushGuarded(live, held, step);
    // A file-backed CIB has no running instances (and no controller to refresh them).
    if (!this.opts.cibFile) for (const id of holds) await this.refreshProbes(id, primitiveIdsOf(held, id), step);
    const now = await this.queryCib(step);
    const released = await this.pushGuarded(now, withoutHolds(configurationOf(now)), step);
    this.opts.logger.info({ resources: holds }, 'hold removed: the resources are managed again with the new parameters');
    return formatCibVersion(cibVersion(released));
  }

  /**
   * `crm_resource --refresh --resource <id>`, then waits (bounded) until every online node has run a
   * probe of its primitives after the refresh (its executor call id above the one before). A
   * refresh that fails or probes that do not finish in time are logged, and the hold is removed
   * anyway: an unmanaged resource is not recovered by Pacemaker, which is worse than the restart
   * the hold avoids.
   */
  private async refreshProbes(id: string, primitives: string[], step: 'swap' | 'rollback'): Promise<true | string> {
    const before = probeSnapshot(await this.queryCib(step), primitives);
    const t0 = Date.now();
    try {
      await this.tool(CLUSTER_TOOLS.crmResource, ['--refresh', '--resource', id], `crm_resource --refresh --resource ${id}`);
    } catch (e) {
      this.opts.logger.warn({ resource: id, error: errorMessage(e) }, 'the refresh failed; giving the resource back anyway (Pacemaker may restart it)');
      return `the refresh failed (${errorMessage(e)})`;
    }
    const deadline = t0 + (this.opts.probeTimeoutMs ?? 120_000);
    let waiting: string[] = [];
    let cib: XmlElement | undefined;
    while (Date.now() < deadline) {
      cib = await this.queryCib(step);
      waiting = nodesAwaitingProbe(cib, primitives, before);
      if (waiting.length === 0) {
        this.opts.logger.info({ resource: id, ms: Date.now() - t0 }, 'probes after the refresh recorded on every online node');
        return true;
      }
      await sleep(CHECK_POLL_MS / 2);
    }
    const last = cib ? recordedProbes(cib, primitives).filter((p) => waiting.includes(p.node)).map(describeProbe).join(', ') : '';
    this.opts.logger.warn({ resource: id, waiting, before: [...before], last }, 'probes after the refresh did not finish in time; giving the resource back anyway (Pacemaker may restart it there)');
    return `no new probe recorded after the refresh within ${Math.round((Date.now() - t0) / 1000)} s on ${waiting.join(', ')} (recorded there now: ${last || 'none'})`;
  }

  /**
   * Pushes `configuration` as a patch against `live`. Pacemaker applies a versioned patch only to
   * the CIB version it was made from; when it refuses, the live CIB is read again: a different
   * configuration version means someone else changed it (refused, nothing overwritten), the same
   * one means only the status moved (the patch is made again). Resolves with the CIB after it.
   */
  private async pushGuarded(live: XmlElement, configuration: XmlElement, step: 'swap' | 'rollback'): Promise<XmlElement> {
    const expected = cibVersion(live);
    let base = live;
    let refused = '';
    for (let attempt = 1; attempt <= PUSH_ATTEMPTS; attempt++) {
      const patch = await this.makePatch(base, cibWithConfiguration(base, configuration), step);
      const r = await this.run(CLUSTER_TOOLS.cibadmin, ['--patch', '--xml-pipe'], { timeoutMs: TOOL_TIMEOUT_MS, env: this.env, input: patch });
      const now = await this.queryCib(step);
      const nowVersion = cibVersion(now);
      if (r.code === 0) return now;
      refused = toolOutput(r);
      if (!sameConfigurationVersion(nowVersion, expected)) {
        // Another node of the same rollout got there first with the same configuration: nothing is lost.
        if (configurationsEqual(configurationOf(now), configuration)) return now;
        throw new DriverError(step, `refusing to push the CIB: its configuration changed since it was read (version ${formatCibVersion(expected)} → ${formatCibVersion(nowVersion)}, last written by ${writer(now)}); nothing was overwritten`);
      }
      if (nowVersion.numUpdates === cibVersion(base).numUpdates) {
        throw new DriverError(step, `cibadmin --patch failed (exit ${r.code}): ${refused}`);
      }
      this.opts.logger.debug({ attempt, from: formatCibVersion(cibVersion(base)), to: formatCibVersion(nowVersion) }, 'only the CIB status changed meanwhile; patching again');
      base = now;
    }
    throw new DriverError(step, `the CIB status kept changing: the patch did not apply after ${PUSH_ATTEMPTS} attempts (${refused})`);
  }

  private async makePatch(from: XmlElement, to: XmlElement, step: 'swap' | 'rollback'): Promise<string> {
    const original = join(this.opts.workDir, 'cib.base.xml');
    const updated = join(this.opts.workDir, 'cib.next.xml');
    await writeFile(original, serializeXml(from), { mode: 0o600 });
    await writeFile(updated, serializeXml(to), { mode: 0o600 });
    try {
      // Exit 1 = the documents differ (the patch is on stdout); 0 = identical.
      const r = await runFile(CLUSTER_TOOLS.crmDiff, ['--original', original, '--new', updated], TOOL_TIMEOUT_MS);
      if (r.code !== 1 || !r.stdout.includes('<diff')) throw new DriverError(step, `crm_diff failed (exit ${r.code}): ${toolOutput(r)}`);
      return r.stdout;
    } finally {
      await rm(original, { force: true });
      await rm(updated, { force: true });
    }
  }

  /**
   * Every configured resource appears in crm_mon and none has a failed action it did not have
   * before; on a live cluster, waits (bounded) for the resources asked to run to be active.
   */
  private async checkConfiguration(configuration: XmlElement): Promise<void> {
    const expected = configuredResourceIds(configuration);
    const toRun = primitivesToRun(configuration);
    const deadline = Date.now() + (this.opts.cibFile ? 0 : this.checkTimeoutMs);
    for (;;) {
      let status: PacemakerStatus;
      try {
        status = await this.status();
      } catch (e) {
        if (Date.now() > deadline) throw new DriverError('check', `crm_mon does not answer: ${errorMessage(e)}`);
        await sleep(CHECK_POLL_MS);
        continue;
      }
      const known = new Set(status.resources.flatMap((r) => [r.id, ...(r.parent ? [r.parent] : [])]));
      const missing = expected.filter((id) => !known.has(id));
      const ours = new Set(expected);
      const fresh = status.failedActions.filter((f) => !this.failuresBefore.has(failedActionKey(f)) && ours.has(f.resource.replace(/:\d+$/, '')));
      if (fresh.length) {
        throw new DriverError('check', `new failed actions after the CIB push: ${fresh.map((f) => `${f.operation} on ${f.node}: ${f.exitStatus}${f.exitReason ? ` (${f.exitReason})` : ''}`).join(', ')}`);
      }
      const inactive = toRun.filter((id) => !status.resources.some((r) => r.id === id && r.active));
      const waitForStart = !this.opts.cibFile && !status.maintenanceMode && !status.stopAllResources;
      if (missing.length === 0 && (!waitForStart || inactive.length === 0)) return;
      if (Date.now() > deadline) {
        if (missing.length) throw new DriverError('check', `configured resources missing from the cluster status: ${missing.join(', ')}`);
        // Placement may keep some stopped (constraints, quorum): not a failure of the push.
        this.opts.logger.warn({ inactive }, `resources not started within ${this.checkTimeoutMs} ms of the CIB push`);
        return;
      }
      await sleep(CHECK_POLL_MS);
    }
  }
}

function writer(cib: XmlElement): string {
  const a = cib.attrs;
  return `${a['update-client'] ?? 'unknown client'}${a['update-user'] ? ` (user ${a['update-user']})` : ''}${a['update-origin'] ? ` on ${a['update-origin']}` : ''}${a['cib-last-written'] ? ` at ${a['cib-last-written']}` : ''}`;
}
