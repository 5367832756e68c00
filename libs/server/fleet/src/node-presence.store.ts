import type { Redis } from 'ioredis';
import { NodeStatus } from '@triad/db';

/**
 * Liveness lives in Redis, not Postgres: a heartbeat is one round trip here.
 *
 *   <prefix>fleet:lastseen       ZSET  "<tenantId>:<nodeId>" → unix ms of the last heartbeat (the lease)
 *   <prefix>fleet:status         HASH  "<tenantId>:<nodeId>" → liveness status as last claimed
 *   <prefix>fleet:hb:<nodeId>    HASH  latest heartbeat (seq, at, appliedRevision, health JSON), for live views
 *
 * Status changes are *claimed* atomically in Redis (Lua) by whoever sees them first (a heartbeat
 * handler for →ONLINE, the sweeper for →SUSPECT/UNREACHABLE); the claimer then writes Postgres.
 * The claim time orders concurrent writes (see NodeStateWriter.transition).
 */
export interface NodeRef {
  tenantId: string;
  nodeId: string;
}

export interface StatusTransition extends NodeRef {
  from: NodeStatus;
  to: NodeStatus;
  /** When the lease was last renewed (unix ms). */
  lastSeenMs: number;
}

export interface HeartbeatRecord {
  seq: number;
  appliedRevision: number;
  /** JSON of the component health list. */
  health: string;
}

/** A heartbeat's latest state kept for this long after the node goes silent. */
const HEARTBEAT_RECORD_TTL_MS = 24 * 60 * 60 * 1000;

// KEYS: lastseen, status, hb   ARGV: member, now, seq, appliedRevision, health, ttl
// Returns the previous status when this heartbeat claimed the transition to ONLINE, else false.
const TOUCH = `
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[3], 'seq', ARGV[3], 'at', ARGV[2], 'appliedRevision', ARGV[4], 'health', ARGV[5])
redis.call('PEXPIRE', KEYS[3], ARGV[6])
local st = redis.call('HGET', KEYS[2], ARGV[1])
if st == 'ONLINE' then return false end
redis.call('HSET', KEYS[2], ARGV[1], 'ONLINE')
if st then return st end
return ''
`;

// KEYS: lastseen, status   ARGV: now, suspectAfterMs, unreachableAfterMs, observedSince
// Claims every due transition. Silence is counted from the later of the last heartbeat and
// `observedSince` (when the sweeper last started watching after a gap): time nobody watched is
// not held against a node. An UNREACHABLE node leaves the lease set (nothing more to sweep)
// until its next heartbeat puts it back.
const SWEEP = `
local now = tonumber(ARGV[1])
local suspectAfter = tonumber(ARGV[2])
local observedSince = tonumber(ARGV[4])
local stale = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - suspectAfter, 'WITHSCORES')
local out = {}
for i = 1, #stale, 2 do
  local member = stale[i]
  local silent = now - math.max(tonumber(stale[i + 1]), observedSince)
  local st = redis.call('HGET', KEYS[2], member) or 'ONLINE'
  if st == 'DECOMMISSIONED' then
    redis.call('ZREM', KEYS[1], member)
  elseif silent >= suspectAfter then
    local target = 'SUSPECT'
    if silent >= tonumber(ARGV[3]) then target = 'UNREACHABLE' end
    if st ~= target then
      redis.call('HSET', KEYS[2], member, target)
      table.insert(out, member)
      table.insert(out, st)
      table.insert(out, target)
      table.insert(out, stale[i + 1])
    end
    if target == 'UNREACHABLE' then redis.call('ZREM', KEYS[1], member) end
  end
end
return out
`;

// KEYS: lastseen, status   ARGV: member, score, status   (re-seeding a lease Redis lost: no
// heartbeat came since, so Postgres' status is the one to age from)
const SEED = `
local added = redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
if added == 1 then redis.call('HSET', KEYS[2], ARGV[1], ARGV[3]) end
return added
`;

function member(ref: NodeRef): string {
  return `${ref.tenantId}:${ref.nodeId}`;
}

function parseMember(m: string): NodeRef {
  const i = m.indexOf(':');
  return { tenantId: m.slice(0, i), nodeId: m.slice(i + 1) };
}

export class NodePresenceStore {
  private readonly lastSeenKey: string;
  private readonly statusKey: string;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    this.lastSeenKey = `${prefix}fleet:lastseen`;
    this.statusKey = `${prefix}fleet:status`;
  }

  private heartbeatKey(nodeId: string): string {
    return `${this.prefix}fleet:hb:${nodeId}`;
  }

  /**
   * Renews the node's lease and stores its latest heartbeat. Returns the status the node had when
   * this call claimed its return to ONLINE (the caller writes that to Postgres), else undefined.
   */
  async touch(ref: NodeRef, nowMs: number, record: HeartbeatRecord): Promise<NodeStatus | undefined> {
    const prev = (await this.redis.eval(
      TOUCH,
      3,
      this.lastSeenKey,
      this.statusKey,
      this.heartbeatKey(ref.nodeId),
      member(ref),
      nowMs,
      record.seq,
      record.appliedRevision,
      record.health,
      HEARTBEAT_RECORD_TTL_MS,
    )) as string | null;
    if (prev === null) return undefined;
    // An empty string: Redis had no status for the node (new, or Redis lost it); Postgres decides.
    return prev === '' ? NodeStatus.PENDING : (prev as NodeStatus);
  }

  /** Claims the liveness transitions due at `nowMs`, counting silence from `observedSinceMs` at the earliest. */
  async claimStaleTransitions(nowMs: number, suspectAfterMs: number, unreachableAfterMs: number, observedSinceMs = 0): Promise<StatusTransition[]> {
    const flat = (await this.redis.eval(SWEEP, 2, this.lastSeenKey, this.statusKey, nowMs, suspectAfterMs, unreachableAfterMs, observedSinceMs)) as string[];
    const out: StatusTransition[] = [];
    for (let i = 0; i < flat.length; i += 4) {
      out.push({ ...parseMember(flat[i]), from: flat[i + 1] as NodeStatus, to: flat[i + 2] as NodeStatus, lastSeenMs: Number(flat[i + 3]) });
    }
    return out;
  }

  /** Puts back a lease Redis does not have (level-triggered repair from Postgres); true if added. */
  async seed(ref: NodeRef, lastSeenMs: number, status: NodeStatus): Promise<boolean> {
    return (await this.redis.eval(SEED, 2, this.lastSeenKey, this.statusKey, member(ref), lastSeenMs, status)) === 1;
  }

  async statuses(refs: NodeRef[]): Promise<Array<NodeStatus | undefined>> {
    if (refs.length === 0) return [];
    const values = await this.redis.hmget(this.statusKey, ...refs.map(member));
    return values.map((v) => (v === null ? undefined : (v as NodeStatus)));
  }

  /** Records a status decided elsewhere (e.g. a decommission) so the sweeper and heartbeats respect it. */
  async setStatus(ref: NodeRef, status: NodeStatus): Promise<void> {
    await this.redis.hset(this.statusKey, member(ref), status);
    if (status === NodeStatus.DECOMMISSIONED) await this.redis.zrem(this.lastSeenKey, member(ref));
  }

  /** Leases renewed at or after `sinceMs`: the nodes alive now. */
  async liveSince(sinceMs: number): Promise<Array<NodeRef & { lastSeenMs: number }>> {
    const flat = await this.redis.zrangebyscore(this.lastSeenKey, sinceMs, '+inf', 'WITHSCORES');
    const out: Array<NodeRef & { lastSeenMs: number }> = [];
    for (let i = 0; i < flat.length; i += 2) out.push({ ...parseMember(flat[i]), lastSeenMs: Number(flat[i + 1]) });
    return out;
  }

  async lastSeen(refs: NodeRef[]): Promise<Array<number | undefined>> {
    if (refs.length === 0) return [];
    const scores = (await this.redis.call('ZMSCORE', this.lastSeenKey, ...refs.map(member))) as Array<string | null>;
    return scores.map((s) => (s === null ? undefined : Number(s)));
  }

  async latestHeartbeat(nodeId: string): Promise<(HeartbeatRecord & { at: number }) | undefined> {
    return heartbeatRecord(await this.redis.hgetall(this.heartbeatKey(nodeId)));
  }

  /** `latestHeartbeat` of many nodes in one round trip. */
  async latestHeartbeats(nodeIds: string[]): Promise<Array<(HeartbeatRecord & { at: number }) | undefined>> {
    if (nodeIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of nodeIds) pipeline.hgetall(this.heartbeatKey(id));
    const replies = (await pipeline.exec()) ?? [];
    return nodeIds.map((_, i) => {
      const [err, h] = replies[i] ?? [null, {}];
      if (err) throw err;
      return heartbeatRecord(h as Record<string, string>);
    });
  }
}

function heartbeatRecord(h: Record<string, string>): (HeartbeatRecord & { at: number }) | undefined {
  if (!h.at) return undefined;
  return { seq: Number(h.seq), at: Number(h.at), appliedRevision: Number(h.appliedRevision), health: h.health };
}
