import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessRef } from './host-process';

export const DEFAULT_STATE_ROOT = '/var/lib/triad-lab';

/** A long-running process the lab started inside a controller, restarted by `start NODE`. */
export interface SupervisedRecord {
  node: string;
  name: string;
  argv: string[];
  /** Only the variables given at spawn time (the rest comes from the lab tool's environment). */
  env: Record<string, string>;
  cwd: string;
  logFile: string;
  /** Ports on the controller's address that answer once it is ready (stand-ins). */
  readyPorts: number[];
  /** A command run inside the controller that succeeds once the process is ready. */
  readyCheck?: string[];
  ref?: ProcessRef;
}

export interface ControllerRecord {
  name: string;
  index: number;
  netns: string;
  address: string;
  dir: string;
  anchor?: ProcessRef;
  /** Powered off by `stop NODE`: no process runs in it and its link is down. */
  stopped: boolean;
}

/**
 * Everything `down` needs to undo a lab from another process, written before each step of `up`
 * so a failed or interrupted `up` can be cleaned as well.
 */
export interface LabState {
  name: string;
  dir: string;
  /** Third octet of the lab's 10.77.<net>.0/24. */
  net: number;
  gatewayAddress: string;
  gatewayLink: string;
  switchNetns: string;
  controllers: ControllerRecord[];
  processes: SupervisedRecord[];
  phase: 'creating' | 'up';
  createdAt: string;
}

export function labDir(stateRoot: string, name: string): string {
  return join(stateRoot, name);
}

export function readLabState(dir: string): LabState | undefined {
  const file = join(dir, 'state.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as LabState;
}

export function writeLabState(state: LabState): void {
  mkdirSync(state.dir, { recursive: true });
  const file = join(state.dir, 'state.json');
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
}
