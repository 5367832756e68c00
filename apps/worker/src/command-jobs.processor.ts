import { InjectQueue, OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import { COMMANDS_LOGGER, CommandsService, OutboxRelay, Reconciler } from '@triad/commands';
import type { Logger } from '@triad/logging';
import type { Job, Queue } from 'bullmq';

export const COMMAND_JOBS_QUEUE = 'triad-commands';

export const JOB = {
  /** Safety net: finds clusters with nodes behind their revision and queues a reconcile for each. */
  reconcileSweep: 'reconcile-sweep',
  reconcileCluster: 'reconcile-cluster',
  expireCommands: 'expire-commands',
  pruneOutbox: 'prune-outbox',
} as const;

/** Published outbox rows are kept this long for troubleshooting, then deleted (hourly job). */
export const OUTBOX_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
const PRUNE_OUTBOX_EVERY_MS = 60 * 60 * 1000;

interface ReconcileClusterData {
  tenantId: string;
  clusterId: string;
}

/** One queued reconcile per cluster: BullMQ ignores an add while a job with that id exists (no ':' allowed in ids). */
export function reconcileJobId(clusterId: string): string {
  return `reconcile-${clusterId}`;
}

/** The worker's periodic jobs. Job schedulers fire once per interval across all replicas. */
@Processor(COMMAND_JOBS_QUEUE, { concurrency: 2 })
export class CommandJobsProcessor extends WorkerHost {
  private readonly logger: Logger;

  constructor(
    @Inject(COMMANDS_LOGGER) logger: Logger,
    @Inject(Reconciler) private readonly reconciler: Reconciler,
    @Inject(CommandsService) private readonly commands: CommandsService,
    @Inject(OutboxRelay) private readonly relay: OutboxRelay,
    @InjectQueue(COMMAND_JOBS_QUEUE) private readonly queue: Queue,
  ) {
    super();
    this.logger = logger.child({ component: 'command-jobs' });
  }

  async process(job: Job): Promise<unknown> {
    switch (job.name) {
      case JOB.reconcileSweep: {
        const behind = await this.reconciler.clustersBehind();
        await this.queue.addBulk(
          behind.map((c) => ({
            name: JOB.reconcileCluster,
            data: c satisfies ReconcileClusterData,
            opts: { jobId: reconcileJobId(c.clusterId), removeOnComplete: true, removeOnFail: true },
          })),
        );
        if (behind.length > 0) this.logger.info({ clusters: behind.length }, 'sweep queued reconciles for clusters with nodes behind');
        return { queued: behind.length };
      }
      case JOB.reconcileCluster: {
        const { tenantId, clusterId } = job.data as ReconcileClusterData;
        const outcome = await this.reconciler.reconcileCluster(tenantId, clusterId);
        return { issued: outcome.issued.length };
      }
      case JOB.expireCommands:
        return { expired: await this.commands.expireOverdue() };
      case JOB.pruneOutbox:
        return { deleted: await this.relay.prunePublished(OUTBOX_RETENTION_MS) };
      default:
        throw new Error(`unknown job ${job.name}`);
    }
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job | undefined, err: Error): void {
    this.logger.error({ err, job: job?.name, jobId: job?.id }, 'job failed');
  }

  /** Idempotent: every replica upserts the same schedulers at start (the last one's intervals win). */
  async schedule(intervals: { reconcileSweepMs: number; commandExpiryMs: number }): Promise<void> {
    const keep = { removeOnComplete: 100, removeOnFail: 100 };
    await this.queue.upsertJobScheduler(JOB.reconcileSweep, { every: intervals.reconcileSweepMs }, { name: JOB.reconcileSweep, opts: keep });
    await this.queue.upsertJobScheduler(JOB.expireCommands, { every: intervals.commandExpiryMs }, { name: JOB.expireCommands, opts: keep });
    await this.queue.upsertJobScheduler(JOB.pruneOutbox, { every: PRUNE_OUTBOX_EVERY_MS }, { name: JOB.pruneOutbox, opts: keep });
  }
}
