import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

function netsDir(stateRoot: string): string {
  return join(stateRoot, 'nets');
}

/**
 * Reserves a lab subnet (third octet) for `name`: `<stateRoot>/nets/<net>` holds the owner's name,
 * created exclusively, so two labs started at once never share a subnet. A reservation whose lab
 * directory is gone (a crashed run) is taken over. Without `requested`, the first free one from 1
 * (0 is the default lab's).
 */
export function reserveNet(stateRoot: string, name: string, requested?: number): number {
  mkdirSync(netsDir(stateRoot), { recursive: true });
  const candidates = requested !== undefined ? [requested] : Array.from({ length: 254 }, (_, i) => i + 1);
  for (const net of candidates) {
    const file = join(netsDir(stateRoot), String(net));
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(file, name, { flag: 'wx' });
        return net;
      } catch {
        const owner = readFileSync(file, 'utf8');
        if (owner === name) return net;
        if (existsSync(labDir(stateRoot, owner))) break;
        rmSync(file, { force: true });
      }
    }
    if (requested !== undefined) throw new Error(`net ${requested} is used by lab "${readFileSync(file, 'utf8')}": pick another`);
  }
  throw new Error('no free lab subnet in 10.77.1-254');
}

/** Gives back every subnet reserved by `name`. */
export function releaseNets(stateRoot: string, name: string): void {
  if (!existsSync(netsDir(stateRoot))) return;
  for (const entry of readdirSync(netsDir(stateRoot))) {
    const file = join(netsDir(stateRoot), entry);
    try {
      if (readFileSync(file, 'utf8') === name) rmSync(file, { force: true });
    } catch {
      // Released concurrently.
    }
  }
}
