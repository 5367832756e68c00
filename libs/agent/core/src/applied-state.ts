import { join } from 'node:path';
import { z } from 'zod';
import { readFileIfExists, writeFileAtomic } from './atomic-file';

/** What this node has applied: reported in Hello and every heartbeat. */
const appliedSchema = z.object({
  revision: z.number().int().nonnegative(),
  generation: z.number().int().nonnegative(),
  /** Default-profile digests (the revision's artifacts), by artifact name. */
  artifacts: z.record(z.string(), z.string()),
  /** sha256 of each live file as the agent left it after applying (drift is a difference from it). */
  written: z.record(z.string(), z.string()).default({}),
});
export type AppliedState = z.infer<typeof appliedSchema>;

export class AppliedStateStore {
  private constructor(
    private readonly path: string,
    private state: AppliedState,
  ) {}

  static async open(stateDir: string): Promise<AppliedStateStore> {
    const path = join(stateDir, 'applied.json');
    const text = await readFileIfExists(path);
    return new AppliedStateStore(path, text === undefined ? { revision: 0, generation: 0, artifacts: {}, written: {} } : appliedSchema.parse(JSON.parse(text)));
  }

  get current(): AppliedState {
    return this.state;
  }

  digests(): { name: string; sha256: string }[] {
    return Object.entries(this.state.artifacts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, sha256]) => ({ name, sha256 }));
  }

  async set(next: AppliedState): Promise<void> {
    await writeFileAtomic(this.path, JSON.stringify(next));
    this.state = next;
  }
}
