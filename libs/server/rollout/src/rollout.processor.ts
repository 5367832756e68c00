import { InjectQueue, OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import type { OutboxHandler } from '@triad/commands';
import type { Logger } from '@triad/logging';
import type { Job, Queue } from 'bullmq';
import type { RolloutConfig } from './config';
import { DEFAULT_MAX_UNAVAILABLE, RolloutService } from './rollout.service';

export const ROLLOUT_QUEUE = 'triad-rollouts';
export const ROLLOUT_CONFIG = Symbol.for('triad.RolloutConfig');
export const ROLLOUT_LOGGER = Symbol.for('triad.RolloutLogger');

export const ROLLOUT_JOB = {
  /** Drives a cluster's rollouts until none is active. */
  drive: 'drive-rollout',
  /** Safety net: queues `drive` for clusters with an active rollout or a revision without one. */
  sweep: 'rollout-sweep',
} as const;

interface DriveData {
  tenantId: string;
  clusterId: string;
}

/** One drive job per cluster: BullMQ ignores an add while a job with that id exists (no ':' allowed in ids). */
export function rolloutJobId(clusterId: string): string {
  return `rollout-${clusterId}`;
}

/**
 * Long-running jobs are fine here: a drive job only polls Postgres between passes. Each slot of
 * `concurrency` is one cluster rolling out on this worker replica.
 */
@Processor(ROLLOUT_QUEUE, { concurrency: 16 })
export class RolloutProcessor extends WorkerHost {
  private stopping = false;
  private readonly logger: Logger;

  constructor(
    @Inject(RolloutService) private readonly rollouts: RolloutService,
    @Inject(ROLLOUT_CONFIG) private readonly config: RolloutConfig,
    @Inject(ROLLOUT_LOGGER) logger: Logger,
    @InjectQueue(ROLLOUT_QUEUE) private readonly queue: Queue,
  ) {
    super();
    this.logger = logger.child({ component: 'rollout-jobs' });
  }

  async process(job: Job): Promise<unknown> {
    switch (job.name) {
      case ROLLOUT_JOB.drive: {
        const { tenantId, clusterId } = job.data as DriveData;
        let passes = 0;
        // On shutdown the loop just stops: the rows are the state, the sweep queues the cluster again.
        while (!this.stopping && (await this.rollouts.advance(tenantId, clusterId))) {
          passes++;
          await new Promise((r) => setTimeout(r, this.config.ROLLOUT_POLL_INTERVAL_MS));
        }
        return { passes };
      }
      case ROLLOUT_JOB.sweep: {
        const clusters = await this.rollouts.clustersToDrive();
        for (const c of clusters) {
          if (c.needsRollout) await this.rollouts.createForRevision(c.tenantId, c.clusterId, c.revision);
          await this.enqueue(c.tenantId, c.clusterId);
        }
        return { queued: clusters.length };
      }
      default:
        throw new Error(`unknown job ${job.name}`);
    }
  }

  async enqueue(tenantId: string, clusterId: string): Promise<void> {
    await this.queue.add(ROLLOUT_JOB.drive, { tenantId, clusterId } satisfies DriveData, { jobId: rolloutJobId(clusterId), removeOnComplete: true, removeOnFail: true });
  }

  async schedule(): Promise<void> {
    await this.queue.upsertJobScheduler(ROLLOUT_JOB.sweep, { every: this.config.ROLLOUT_SWEEP_INTERVAL_MS }, { name: ROLLOUT_JOB.sweep, opts: { removeOnComplete: 100, removeOnFail: 100 } });
  }

  /** Drive loops end at their next pass; then the BullMQ worker closes. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.worker.close();
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job | undefined, err: Error): void {
    this.logger.error({ err, job: job?.name, jobId: job?.id }, 'rollout job failed');
  }

  /**
   * The `cluster.revision.created` outbox handler: creates the revision's rollout, queues its
   * drive job, then runs `next` (the reconciler's handler, which now holds the nodes the rollout
   * has not released). `maxUnavailable` in the payload (1 when absent) sets the rollout's width.
   */
  revisionCreatedHandler(next: OutboxHandler): OutboxHandler {
    return {
      needsNats: false,
      handle: async (row) => {
        const { clusterId, revision, maxUnavailable } = row.payload as { clusterId?: unknown; revision?: unknown; maxUnavailable?: unknown };
        if (typeof clusterId === 'string' && typeof revision === 'number') {
          const width = typeof maxUnavailable === 'number' && Number.isInteger(maxUnavailable) && maxUnavailable >= 1 ? maxUnavailable : DEFAULT_MAX_UNAVAILABLE;
          await this.rollouts.createForRevision(row.tenantId, clusterId, revision, width);
          await this.enqueue(row.tenantId, clusterId);
        }
        return next.handle(row);
      },
    };
  }
}
