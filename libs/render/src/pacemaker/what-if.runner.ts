import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cibVipIds, parseSimulatedPlacement, placementProblems, simulationCib, type WhatIfReport } from './what-if';

const run = promisify(execFile);

/** A single crm_simulate run of a 32-node cluster takes well under this. */
const SIMULATE_TIMEOUT_MS = 20_000;

export interface WhatIfOptions {
  /** Path of crm_simulate; Debian installs it in /usr/sbin. */
  crmSimulate?: string;
}

/**
 * Places the CIB's resources on all nodes with crm_simulate, then simulates the loss of each node
 * in turn and reports where every VIP and the Galera promoted role end up. A plan that leaves a
 * VIP or Galera without a home after losing any single node has problems in the report.
 */
/**
 * One simulation at a time per process: each crm_simulate run costs CPU in proportion to the
 * cluster, and a burst of plans must not starve the api that serves them.
 */
let queue: Promise<unknown> = Promise.resolve();

export function whatIf(cibXml: string, nodeNames: string[], options: WhatIfOptions = {}): Promise<WhatIfReport> {
  const next = queue.then(() => simulateAll(cibXml, nodeNames, options));
  queue = next.catch(() => undefined);
  return next;
}

async function simulateAll(cibXml: string, nodeNames: string[], options: WhatIfOptions): Promise<WhatIfReport> {
  const crmSimulate = options.crmSimulate ?? '/usr/sbin/crm_simulate';
  const dir = await mkdtemp(join(tmpdir(), 'triad-what-if-'));
  try {
    const vipIds = cibVipIds(cibXml);
    const input = join(dir, 'input.xml');
    const placed = join(dir, 'placed.xml');
    await writeFile(input, simulationCib(cibXml, nodeNames));
    const simulate = async (args: string[]): Promise<string> =>
      (await run(crmSimulate, [...args, '--output-as=xml'], { maxBuffer: 32 * 1024 * 1024, timeout: SIMULATE_TIMEOUT_MS, killSignal: 'SIGKILL' })).stdout;

    const placement = parseSimulatedPlacement(await simulate(['-x', input, '-S', '-O', placed]), vipIds);
    const losses: WhatIfReport['losses'] = [];
    for (const lostNode of nodeNames) {
      const after = join(dir, `after-${losses.length}.xml`);
      const output = await simulate(['-x', placed, '-S', '-d', lostNode, '-O', after]);
      losses.push({ lostNode, placement: parseSimulatedPlacement(output, vipIds) });
    }
    return {
      placement,
      losses,
      problems: [
        ...placementProblems(placement),
        ...losses.flatMap((l) => placementProblems(l.placement, l.lostNode)),
      ],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
