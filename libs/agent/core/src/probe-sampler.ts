import type { ComponentHealth } from '@triad/protocol';

/** What the sampler needs of a driver: its name and its probe. */
export interface Probed {
  readonly component: string;
  probe(): Promise<ComponentHealth>;
}

export interface ProbeSamplerOptions {
  /** How long a heartbeat waits for probes it started before sending what it has. */
  waitMs: number;
  /** A probe running longer than this makes its component UNKNOWN (the last result is too old to trust). */
  staleAfterMs: number;
  now?: () => number;
}

interface Slot {
  latest?: ComponentHealth;
  latestAt?: number;
  inflight?: Promise<void>;
  startedAt?: number;
}

/**
 * Probes for heartbeats without letting a slow probe delay the heartbeat. A heartbeat starts a
 * probe of every component that has none running, waits at most `waitMs` for them, then sends the
 * newest result of each. A probe that hangs (rabbitmqctl or crm_mon while a peer is cut off, a
 * mysql connect to a dead address) therefore cannot make the node look UNREACHABLE: its component
 * keeps its last result, and turns UNKNOWN once the probe has run for `staleAfterMs`.
 */
export class ProbeSampler {
  private readonly slots = new Map<string, Slot>();
  private readonly now: () => number;

  constructor(
    private readonly probed: readonly Probed[],
    private readonly opts: ProbeSamplerOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  async sample(): Promise<ComponentHealth[]> {
    const started: Promise<void>[] = [];
    for (const d of this.probed) {
      const slot = this.slot(d.component);
      if (slot.inflight) continue;
      slot.startedAt = this.now();
      slot.inflight = d
        .probe()
        .catch((e: unknown): ComponentHealth => ({ component: d.component, state: 'COMPONENT_UNKNOWN', summary: `probe failed: ${e instanceof Error ? e.message : String(e)}`, detailJson: '' }))
        .then((health) => {
          slot.latest = health;
          slot.latestAt = this.now();
          slot.inflight = undefined;
          slot.startedAt = undefined;
        });
      started.push(slot.inflight);
    }
    if (started.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(started), new Promise<void>((resolve) => (timer = setTimeout(resolve, this.opts.waitMs)))]);
      clearTimeout(timer);
    }
    return this.probed.map((d) => this.report(d.component));
  }

  /** Resolves when every probe in flight has ended (agent shutdown). */
  async settle(): Promise<void> {
    await Promise.all([...this.slots.values()].map((s) => s.inflight));
  }

  private report(component: string): ComponentHealth {
    const slot = this.slot(component);
    const runningMs = slot.startedAt === undefined ? 0 : this.now() - slot.startedAt;
    if (runningMs >= this.opts.staleAfterMs) {
      const last = slot.latest ? `; last result ${Math.round((this.now() - (slot.latestAt ?? 0)) / 1000)} s ago: ${slot.latest.summary}` : '';
      return { component, state: 'COMPONENT_UNKNOWN', summary: `probe has not answered for ${Math.round(runningMs / 1000)} s${last}`, detailJson: '' };
    }
    return slot.latest ?? { component, state: 'COMPONENT_UNKNOWN', summary: 'first probe still running', detailJson: '' };
  }

  private slot(component: string): Slot {
    let slot = this.slots.get(component);
    if (!slot) this.slots.set(component, (slot = {}));
    return slot;
  }
}
