import type { ComponentHealth } from '@triad/protocol';
import type { Logger } from '@triad/logging';

/** The step of a driver's apply life that failed: reported to the operator with the tool's message. */
export type DriverStep = 'stage' | 'validate' | 'swap' | 'reload' | 'check' | 'rollback';

export class DriverError extends Error {
  constructor(
    readonly step: DriverStep,
    message: string,
  ) {
    super(message);
    this.name = 'DriverError';
  }
}

/**
 * A component the agent configures (haproxy today; pacemaker, galera, rabbitmq next). Every driver
 * shares one life for a new artifact, run by `applyArtifact`: stage → validate → swap (keeping the
 * previous file) → reload → check health → on failure roll back to the previous file.
 */
export interface ComponentDriver {
  /** Component name in heartbeats: haproxy, pacemaker, galera, rabbitmq… */
  readonly component: string;
  /** The rendered artifact this driver applies (`haproxy.cfg`). */
  readonly artifact: string;
  /**
   * The live file the artifact is installed as, when it is a file the component reads (haproxy.cfg,
   * galera.cnf…): the agent hashes it every heartbeat and reports a change made behind its back
   * (CONFIG_DRIFT). Undefined when the component owns its configuration (Pacemaker's CIB).
   */
  readonly liveFile?: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Installed version (for facts), undefined when the tool is missing. */
  version(): Promise<string | undefined>;
  /** Writes the candidate next to the live file; never touches the live file. */
  stage(content: string): Promise<void>;
  /** The component's own check of the staged candidate; throws DriverError('validate') with its message. */
  validate(): Promise<void>;
  discardStaged(): Promise<void>;
  /** Keeps the live file as the previous one and atomically installs the staged candidate. */
  swap(): Promise<void>;
  /** Makes the running component use the live file. */
  reload(): Promise<void>;
  /** After a reload: is the component running the new configuration and healthy? */
  check(content: string): Promise<void>;
  /** Restores the previous file and reloads; resolves with what it did, for the operator. */
  rollback(): Promise<string>;
  /** Health for heartbeats. */
  probe(): Promise<ComponentHealth>;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Applies one artifact through a driver. A candidate the component rejects never replaces the
 * live file; a reload or health check that fails restores the previous file and reloads it.
 */
export async function applyArtifact(driver: ComponentDriver, content: string, logger: Logger): Promise<void> {
  await driver.stage(content);
  try {
    await driver.validate();
  } catch (e) {
    await driver.discardStaged();
    throw e instanceof DriverError ? e : new DriverError('validate', message(e));
  }
  await driver.swap();
  try {
    await driver.reload();
    await driver.check(content);
  } catch (e) {
    const step = e instanceof DriverError ? e.step : 'reload';
    logger.warn({ component: driver.component, step, err: message(e) }, 'new configuration failed; rolling back');
    let outcome: string;
    try {
      outcome = await driver.rollback();
    } catch (rb) {
      throw new DriverError('rollback', `${message(e)}; rolling back to the previous configuration also failed: ${message(rb)}`);
    }
    throw new DriverError(step, `${message(e)}; ${outcome}`);
  }
}
