import type { Redis } from 'ioredis';
import { NodeStatus } from '@triad/db';
import type { Logger } from '@triad/logging';
import type { DataSource } from 'typeorm';
import type { NodePresenceStore, NodeRef } from './node-presence.store';
import type { NodeStateWriter } from './node-state.writer';
import { RedisLeaderLock, RepeatingTask } from './redis-leader-lock';

/** A node is SUSPECT after 1.5 heartbeat intervals without one, UNREACHABLE after 3. */
export function livenessThresholds(heartbeatIntervalMs: number): { suspectAfterMs: number; unreachableAfterMs: number } {
  return { suspectAfterMs: Math.round(heartbeatIntervalMs * 1.5), unreachableAfterMs: heartbeatIntervalMs * 3 };
}

export interface LivenessSweeperOptions {
  heartbeatIntervalMs: number;
  redisPrefix: string;
  /** How often leases are checked. */
  tickMs?: number;
  /** How often lastHeartbeatAt of live nodes is written to Postgres (one statement). */
  flushEveryMs?: number;
  /** How often Redis is repaired from Postgres (leases Redis lost, transitions Postgres missed). */
  repairEveryMs?: number;
}

const LIVENESS_STATUSES: readonly NodeStatus[] = [NodeStatus.ONLINE, NodeStatus.SUSPECT, NodeStatus.UNREACHABLE];

/**
 * Turns missing heartbeats into SUSPECT / UNREACHABLE (Postgres written only on a transition,
 * with an audit event), flushes lastHeartbeatAt in batches, and repairs Redis from Postgres.
 * Runs in the worker; any number of replicas may start it: a Redis lock lets one sweep at a time.
 */
export class LivenessSweeper {
  private readonly lock: RedisLeaderLock;
  private readonly suspectAfterMs: number;
  private readonly unreachableAfterMs: number;
  private readonly tickMs: number;
  private readonly flushEveryMs: number;
  private readonly repairEveryMs: number;
  private readonly loop: RepeatingTask;
  private lastFlush = 0;
  private lastRepair = 0;
  private readonly lastSweepKey: string;
  /** When this sweeper last completed a sweep. */
  private lastSweep = 0;
  /** Start of the current unbroken stretch of observation (see `claimStaleTransitions`). */
  private observedSince = 0;

  constructor(
    private readonly redis: Redis,
    private readonly dataSource: DataSource,
    private readonly presence: NodePresenceStore,
    private readonly writer: NodeStateWriter,
    options: LivenessSweeperOptions,
    private readonly logger: Logger,
  ) {
    this.lastSweepKey = `${options.redisPrefix}fleet:sweeper-last`;
    ({ suspectAfterMs: this.suspectAfterMs, unreachableAfterMs: this.unreachableAfterMs } = livenessThresholds(options.heartbeatIntervalMs));
    this.tickMs = options.tickMs ?? 250;
    this.flushEveryMs = options.flushEveryMs ?? 30_000;
    this.repairEveryMs = options.repairEveryMs ?? 10_000;
    // Long enough to survive a slow tick, short enough that another replica takes over quickly.
    this.lock = new RedisLeaderLock(redis, `${options.redisPrefix}fleet:sweeper-lock`, Math.max(2_000, this.tickMs * 8));
    this.loop = new RepeatingTask(this.tickMs, () => this.tick(), (err) => this.logger.error({ err }, 'liveness sweep failed'));
  }

  get isLeader(): boolean {
    return this.lock.isHeld;
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.lock.release();
  }

  /** One round: hold the lock, sweep, and flush / repair when due. */
  async tick(now = Date.now()): Promise<void> {
    if (!(await this.holdLock(now))) return;
    if (this.lastSweep && now - this.lastSweep > this.suspectAfterMs) this.observationGap(now, now - this.lastSweep);
    if (now - this.lastRepair >= this.repairEveryMs) {
      this.lastRepair = now;
      await this.repair(now);
    }
    await this.sweep(now);
    this.lastSweep = now;
    await this.redis.set(this.lastSweepKey, String(now), 'PX', 24 * 60 * 60 * 1000);
    if (now - this.lastFlush >= this.flushEveryMs) {
      this.lastFlush = now;
      await this.flush(now);
    }
  }

  /** Claims due transitions in Redis and writes each to Postgres. Returns how many were written. */
  async sweep(now = Date.now()): Promise<number> {
    const transitions = await this.presence.claimStaleTransitions(now, this.suspectAfterMs, this.unreachableAfterMs, this.observedSince);
    let written = 0;
    for (const t of transitions) {
      const silentMs = now - t.lastSeenMs;
      const from = await this.writer.transition(t, t.to, new Date(now), { silentMs, lastHeartbeatAt: new Date(t.lastSeenMs).toISOString() });
      if (from) {
        written++;
        this.logger.warn({ tenantId: t.tenantId, nodeId: t.nodeId, from, to: t.to, silentMs }, `node is ${t.to.toLowerCase()}`);
      }
    }
    return written;
  }

  /** Writes lastHeartbeatAt for every node heard from since the previous flush, in one statement. */
  async flush(now = Date.now()): Promise<number> {
    const live = await this.presence.liveSince(now - this.flushEveryMs - this.tickMs);
    return this.writer.flushLastHeartbeats(live);
  }

  /**
   * Level-triggered repair. Redis is transport: a lease it lost is put back from Postgres (so a
   * node nobody hears from still ages into UNREACHABLE), and a transition Redis claimed but
   * Postgres missed (a failed write) is written again.
   */
  async repair(now = Date.now()): Promise<void> {
    // Deliberately across tenants: the sweeper is a system process watching every node.
    const rows = (await this.dataSource.query(
      `SELECT tenant_id, id, status, last_heartbeat_at, status_changed_at FROM nodes WHERE status IN ('ONLINE', 'SUSPECT', 'UNREACHABLE')`,
    )) as Array<{ tenant_id: string; id: string; status: NodeStatus; last_heartbeat_at: Date | null; status_changed_at: Date }>;
    const refs: NodeRef[] = rows.map((r) => ({ tenantId: r.tenant_id, nodeId: r.id }));
    const inRedis = await this.presence.statuses(refs);
    const leases = await this.presence.lastSeen(refs);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      const ref = refs[i];
      const redisStatus = inRedis[i];
      if (redisStatus && redisStatus !== row.status && LIVENESS_STATUSES.includes(redisStatus)) {
        await this.writer.transition(ref, redisStatus, new Date(now), { repaired: true });
        continue;
      }
      if (row.status !== NodeStatus.UNREACHABLE && leases[i] === undefined) {
        const lastSeen = Math.max(row.last_heartbeat_at?.getTime() ?? 0, row.status_changed_at.getTime());
        if (await this.presence.seed(ref, lastSeen, row.status)) this.logger.info({ ...ref, status: row.status }, 'liveness lease restored from Postgres');
      }
    }
  }

  /**
   * Nobody swept for a while (Redis or every worker was down, or this process stalled): leases
   * aged while nobody watched, and agents are still reconnecting. Count silence from now, so a
   * control-plane outage does not mark the whole fleet UNREACHABLE the moment it ends.
   */
  private observationGap(now: number, gapMs: number | undefined): void {
    this.observedSince = now;
    if (gapMs === undefined) this.logger.info('no earlier liveness sweep known; silence is counted from now');
    else this.logger.warn({ gapMs }, 'liveness was not observed for a while; silence is counted from now');
  }

  private async holdLock(now: number): Promise<boolean> {
    const { held, acquired, lost } = await this.lock.hold();
    if (lost) this.logger.warn('lost the liveness sweeper lock');
    if (acquired) {
      this.logger.info('liveness sweeper is the leader');
      this.lastRepair = 0; // a new leader first repairs: it may take over after a gap
      const last = Number(await this.redis.get(this.lastSweepKey));
      this.lastSweep = 0;
      if (!last || now - last > this.suspectAfterMs) this.observationGap(now, last ? now - last : undefined);
    }
    return held;
  }
}
