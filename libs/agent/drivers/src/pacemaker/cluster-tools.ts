import { runFile, type ExecResult } from '@triad/agent-core';

export interface ToolRunOptions {
  timeoutMs: number;
  /** Added to the environment (`CIB_file`). */
  env?: Record<string, string>;
  /** Written to stdin (`--xml-pipe`). */
  input?: string;
}

/**
 * Runs a cluster tool (argument array, never a shell string). The agent runs tools on its own node;
 * tests pass a runner that enters a lab controller (`nsenter … -- <bin> <args>`).
 */
export type ToolRunner = (bin: string, args: readonly string[], opts: ToolRunOptions) => Promise<ExecResult>;

export const runOnThisNode: ToolRunner = (bin, args, opts) => runFile(bin, args, opts.timeoutMs, { env: opts.env, input: opts.input });

/** Absolute paths of the Pacemaker and Corosync tools (Debian/RHEL install them in /usr/sbin). */
export const CLUSTER_TOOLS = {
  cibadmin: '/usr/sbin/cibadmin',
  crmDiff: '/usr/sbin/crm_diff',
  crmVerify: '/usr/sbin/crm_verify',
  crmSimulate: '/usr/sbin/crm_simulate',
  crmMon: '/usr/sbin/crm_mon',
  crmResource: '/usr/sbin/crm_resource',
  crmAttribute: '/usr/sbin/crm_attribute',
  corosync: '/usr/sbin/corosync',
  corosyncCfgtool: '/usr/sbin/corosync-cfgtool',
  corosyncQuorumtool: '/usr/sbin/corosync-quorumtool',
  corosyncCmapctl: '/usr/sbin/corosync-cmapctl',
} as const;

/** A tool's output as one bounded line for a command result. */
export function toolOutput(r: Pick<ExecResult, 'stdout' | 'stderr'>, max = 2000): string {
  const line = `${r.stderr}\n${r.stdout}`
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' | ');
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/**
 * A runner entering another node first: `enter(argv)` is the whole command line whose head is
 * `nsenter` and its options (a lab controller: `(argv) => lab.enterCommand(node, argv)`), run as
 * `/usr/bin/nsenter …`. Tests drive the drivers against lab controllers through it.
 */
export function nsenterRunner(enter: (argv: string[]) => string[]): ToolRunner {
  return (bin, args, opts) => {
    const [, ...rest] = enter([bin, ...args]);
    return runFile('/usr/bin/nsenter', rest, opts.timeoutMs, { env: opts.env, input: opts.input });
  };
}
