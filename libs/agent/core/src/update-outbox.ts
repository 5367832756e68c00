import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandUpdate } from '@triad/protocol';
import { readFileIfExists, writeFileAtomic } from './atomic-file';

/**
 * Command updates waiting to reach the control plane, in order, on disk
 * (`<stateDir>/pending-updates.jsonl`, one JSON update a line, fsynced on append). An update
 * leaves the file only once it was written to a live stream, so a crash or a disconnect loses none.
 */
export class UpdateOutbox {
  private queue: CommandUpdate[];
  /** File operations run one after another: an append must never race a rewrite. */
  private chain: Promise<unknown> = Promise.resolve();
  private listener: (() => void) | undefined;

  private constructor(
    private readonly path: string,
    queue: CommandUpdate[],
  ) {
    this.queue = queue;
  }

  static async open(stateDir: string): Promise<UpdateOutbox> {
    const path = join(stateDir, 'pending-updates.jsonl');
    const text = (await readFileIfExists(path)) ?? '';
    const queue: CommandUpdate[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        queue.push(JSON.parse(line) as CommandUpdate);
      } catch {
        // A torn last line from a crash mid-append: that update was never acknowledged as queued.
      }
    }
    return new UpdateOutbox(path, queue);
  }

  /** Called after every enqueue (the stream flushes when connected). */
  onEnqueue(listener: () => void): void {
    this.listener = listener;
  }

  get size(): number {
    return this.queue.length;
  }

  peek(): CommandUpdate | undefined {
    return this.queue[0];
  }

  /** Resolves once the update is durable on disk. */
  enqueue(update: CommandUpdate): Promise<void> {
    const done = this.serial(async () => {
      const fh = await open(this.path, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, 0o600);
      try {
        await fh.write(`${JSON.stringify(update)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      this.queue.push(update);
    });
    return done.then(() => this.listener?.());
  }

  /** Drops the oldest update (it was written to the stream). */
  shift(): Promise<void> {
    return this.serial(async () => {
      this.queue.shift();
      await writeFileAtomic(this.path, this.queue.map((u) => `${JSON.stringify(u)}\n`).join(''));
    });
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.chain.then(op, op);
    this.chain = next.catch(() => undefined);
    return next;
  }
}
