import { join } from 'node:path';
import { Agent, AgentFatalError, loadAgentConfig, type AgentConfig } from '@triad/agent-core';
import type { ComponentDriver } from '@triad/agent-core';
import { ClusterStack, CorosyncDriver, GaleraDriver, HaproxyDriver, NodeActions, PacemakerDriver, RabbitmqDriver } from '@triad/agent-drivers';
import { DEFAULT_HOST_PROFILE } from '@triad/render';
import { createLogger, type Logger } from '@triad/logging';

/**
 * The Triad agent: `node -r @swc-node/register apps/agent/src/main.ts` with TRIAD_* variables
 * (docs/agent.md). Exit codes: 0 stopped cleanly, 1 error or unclean stop, 2 enrollment refused.
 */
function buildAgent(config: AgentConfig, logger: Logger): Agent {
  const wanted = new Set(config.components);
  const drivers: ComponentDriver[] = [];
  let galera: GaleraDriver | undefined;
  let rabbitmq: RabbitmqDriver | undefined;
  let pacemaker: PacemakerDriver | undefined;
  // Corosync + Pacemaker on this node, started the host's way (TRIAD_CLUSTER_STACK_START/STOP).
  const clusterStack =
    wanted.has('corosync') || wanted.has('pacemaker')
      ? new ClusterStack({ startCommands: config.clusterStack.start, stopCommands: config.clusterStack.stop, logger: logger.child({ component: 'cluster-stack' }) })
      : undefined;
  // Apply order within a revision: cluster membership first, then the files resources use, then the CIB that runs them.
  if (wanted.has('corosync')) {
    // Applying corosync.conf starts the stack when it does not run (bring-up, a new node).
    drivers.push(new CorosyncDriver({ nodeName: config.nodeName, configFile: config.corosync.configFile, stack: clusterStack, logger: logger.child({ component: 'corosync' }) }));
  }
  if (wanted.has('haproxy')) {
    drivers.push(
      new HaproxyDriver({
        mode: config.haproxy.mode,
        bin: config.haproxy.bin,
        configFile: config.haproxy.configFile,
        masterSocket: config.haproxy.masterSocket,
        statsSocket: config.haproxy.statsSocket,
        logger: logger.child({ component: 'haproxy' }),
      }),
    );
  }
  // The agent renders galera/rabbitmq files with the default host profile's paths (nodeHostProfile).
  if (wanted.has('galera')) {
    galera = new GaleraDriver({
      mode: config.galera.mode,
      configFile: DEFAULT_HOST_PROFILE.galera.configPath,
      clustercheck: config.galera.clustercheck,
      sstAuth: config.galera.sst && { ...config.galera.sst, authFile: DEFAULT_HOST_PROFILE.galera.sstAuthFile },
      logger: logger.child({ component: 'galera' }),
    });
    drivers.push(galera);
  }
  if (wanted.has('rabbitmq')) {
    rabbitmq = new RabbitmqDriver({
      mode: config.rabbitmq.mode,
      node: {
        binDir: '/usr/lib/rabbitmq/bin',
        erlangNodeName: `rabbit@${config.nodeName}`,
        pidFile: join(DEFAULT_HOST_PROFILE.rabbitmq.mnesiaBase, `rabbit@${config.nodeName}.pid`),
        env: {
          PATH: '/usr/lib/rabbitmq/bin:/usr/sbin:/usr/bin:/sbin:/bin',
          HOME: config.rabbitmq.home,
          LANG: 'C.UTF-8',
          LC_ALL: 'C.UTF-8',
          RABBITMQ_CONF_ENV_FILE: '/etc/rabbitmq/rabbitmq-env.conf',
          RABBITMQ_PID_FILE: join(DEFAULT_HOST_PROFILE.rabbitmq.mnesiaBase, `rabbit@${config.nodeName}.pid`),
        },
      },
      configFile: DEFAULT_HOST_PROFILE.rabbitmq.configPath,
      envConfFile: '/etc/rabbitmq/rabbitmq-env.conf',
      definitionsFile: DEFAULT_HOST_PROFILE.rabbitmq.definitionsPath,
      cookieFile: config.rabbitmq.cookieFile,
      logger: logger.child({ component: 'rabbitmq' }),
    });
    // env and definitions before rabbitmq.conf: its driver restarts once for all three.
    drivers.push(...rabbitmq.drivers());
  }
  if (wanted.has('pacemaker')) {
    pacemaker = new PacemakerDriver({
      nodeName: config.nodeName,
      workDir: config.pacemaker.workDir,
      cibFile: config.pacemaker.cibFile,
      logger: logger.child({ component: 'pacemaker' }),
    });
    drivers.push(pacemaker);
  }
  // run_action: the repair operations remediation asks for, through the same drivers.
  return new Agent(config, drivers, logger, new NodeActions({ galera, rabbitmq, pacemaker, clusterStack }));
}

/** Stops within `timeoutMs`, or says that it could not. */
async function stopWithin(agent: Agent, timeoutMs: number, logger: Logger): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  const stopped = agent.stop().then(
    () => true,
    (e: unknown) => {
      logger.error({ err: e }, 'error while stopping');
      return false;
    },
  );
  const ok = await Promise.race([stopped, timedOut]);
  clearTimeout(timer);
  if (!ok) logger.error({ timeoutMs }, 'agent did not stop cleanly within the shutdown timeout; exiting anyway');
  return ok;
}

async function main(): Promise<number> {
  let config: AgentConfig;
  try {
    config = loadAgentConfig();
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
  const logger = createLogger('triad-agent', { level: config.logLevel });
  const agent = buildAgent(config, logger);

  const stopRequested = new Promise<NodeJS.Signals>((resolve) => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => resolve(sig));
  });
  // Settles with the start error (or undefined): a signal may arrive while enrollment still retries.
  const started = agent.start().then(
    () => undefined,
    (e: unknown) => e ?? new Error('start failed'),
  );
  const first = await Promise.race([started.then((error) => ({ error })), stopRequested.then((signal) => ({ signal }))]);
  if ('error' in first && first.error !== undefined) {
    const e = first.error;
    await stopWithin(agent, config.shutdownTimeoutMs, logger);
    if (e instanceof AgentFatalError) {
      logger.fatal(e.message);
      process.stderr.write(`${e.message}\n`);
      return e.exitCode;
    }
    logger.fatal({ err: e }, 'agent failed to start');
    return 1;
  }
  const signal = 'signal' in first ? first.signal : await stopRequested;
  logger.info({ signal }, 'stopping');
  return (await stopWithin(agent, config.shutdownTimeoutMs, logger)) ? 0 : 1;
}

void main().then((code) => {
  // pino writes asynchronously: give it a moment to flush before exiting.
  setTimeout(() => process.exit(code), 100);
});
