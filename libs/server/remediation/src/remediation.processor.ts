import { InjectQueue, OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import type { Logger } from '@triad/logging';
import type { Job, Queue } from 'bullmq';
import type { RemediationConfig } from './config';
import { RemediationService } from './remediation.service';

export const REMEDIATION_QUEUE = 'remediation';
export const REMEDIATION_CONFIG = Symbol.for('triad.RemediationConfig');
export const REMEDIATION_LOGGER = Symbol.for('triad.RemediationLogger');

export const REMEDIATION_JOB = {
  /** Drives a cluster's run step by step until none is drivable. */
  drive: 'drive-remediation',
  /** Freezes, plans and queues `drive` for every cluster with a run to drive (crash recovery too). */
  sweep: 'remediation-sweep',
} as const;

interface DriveData {
  tenantId: string;
  clusterId: string;
}

/** One drive job per cluster: BullMQ ignores an add while a job with that id exists. */
export function remediationJobId(clusterId: string): string {
  return `remediation-${clusterId}`;
}

@Processor(REMEDIATION_QUEUE, { concurrency: 16 })
export class RemediationProcessor extends WorkerHost {
  private stopping = false;
  private readonly logger: Logger;

  constructor(
    @Inject(RemediationService) private readonly remediation: RemediationService,
    @Inject(REMEDIATION_CONFIG) private readonly config: RemediationConfig,
    @Inject(REMEDIATION_LOGGER) logger: Logger,
    @InjectQueue(REMEDIATION_QUEUE) private readonly queue: Queue,
  ) {
    super();
    this.logger = logger.child({ component: 'remediation-jobs' });
  }

  async process(job: Job): Promise<unknown> {
    switch (job.name) {
      case REMEDIATION_JOB.drive: {
        const { tenantId, clusterId } = job.data as DriveData;
        let steps = 0;
        // On shutdown the loop stops at a step boundary: the rows are the state, the sweep queues the cluster again.
        while (!this.stopping && (await this.remediation.advance(tenantId, clusterId))) steps++;
        return { steps };
      }
      case REMEDIATION_JOB.sweep: {
        const clusters = await this.remediation.sweep();
        for (const c of clusters) await this.enqueue(c.tenantId, c.clusterId);
        return { queued: clusters.length };
      }
      default:
        throw new Error(`unknown job ${job.name}`);
    }
  }

  async enqueue(tenantId: string, clusterId: string): Promise<void> {
    await this.queue.add(REMEDIATION_JOB.drive, { tenantId, clusterId } satisfies DriveData, { jobId: remediationJobId(clusterId), removeOnComplete: true, removeOnFail: true });
  }

  async schedule(): Promise<void> {
    await this.queue.upsertJobScheduler(REMEDIATION_JOB.sweep, { every: this.config.REMEDIATION_SWEEP_INTERVAL_MS }, { name: REMEDIATION_JOB.sweep, opts: { removeOnComplete: 100, removeOnFail: 100 } });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.worker.close();
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job | undefined, err: Error): void {
    this.logger.error({ err, job: job?.name, jobId: job?.id }, 'remediation job failed');
  }
}
