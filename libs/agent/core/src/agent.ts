import type { AgentServiceClient, Facts, VerifiedCommand } from '@triad/protocol';
import type { Logger } from '@triad/logging';
import { AppliedStateStore } from './applied-state';
import { ensurePrivateDir } from './atomic-file';
import { CommandConsumer } from './command-consumer';
import { ActionRefusedError, CommandRunner, type CommandResult, type NodeActionExecutor } from './command-runner';
import type { ComponentDriver } from './component-driver';
import type { AgentConfig } from './config';
import { createControlPlaneClient } from './control-plane-client';
import { ControlStream } from './control-stream';
import { loadOrEnroll } from './enrollment';
import { ProbeSampler } from './probe-sampler';
import { AGENT_VERSION, collectFacts } from './facts';
import { IdentityStore } from './identity';
import { CommandJournal } from './journal';
import { nodeHostProfile, RevisionApplier } from './revision-applier';
import { UpdateOutbox } from './update-outbox';

/**
 * The agent daemon: enroll (or load the saved identity), start the component drivers, keep the
 * control stream, and run commands from NATS. `start()` returns once everything is running;
 * `stop()` undoes it in reverse order.
 */
export class Agent {
  private readonly abort = new AbortController();
  private client: AgentServiceClient | undefined;
  private stream: ControlStream | undefined;
  private consumer: CommandConsumer | undefined;
  private started: ComponentDriver[] = [];
  private readonly probes: ProbeSampler;
  private log: Logger;

  constructor(
    private readonly config: AgentConfig,
    private readonly drivers: ComponentDriver[],
    logger: Logger,
    /** run_action; without it every action is refused. */
    private readonly actions?: NodeActionExecutor,
  ) {
    this.log = logger;
    // A heartbeat waits at most 250 ms for probes (it must not be late: the control plane counts a
    // node SUSPECT after 1.5 intervals); a probe stuck for 30 s turns its component UNKNOWN.
    this.probes = new ProbeSampler(drivers, { waitMs: 250, staleAfterMs: 30_000 });
  }

  async start(): Promise<void> {
    const { config } = this;
    await ensurePrivateDir(config.stateDir);
    if (config.grpcInsecure) this.log.warn({ controlPlane: config.controlPlane }, 'gRPC to the control plane is plaintext (TRIAD_GRPC_INSECURE): the enrollment token and this agent\'s credentials cross the network in clear; development and labs only');
    this.client = createControlPlaneClient(config);
    const identity = await loadOrEnroll({
      client: this.client,
      store: new IdentityStore(config.stateDir),
      token: config.enrollmentToken,
      nodeName: config.nodeName,
      facts: () => this.facts(),
      logger: this.log,
      signal: this.abort.signal,
      expectedCommandKeySha256: config.commandKeySha256,
    });
    const { nodeId, tenantId, clusterId, nodeName } = identity.enrollment;
    this.log = this.log.child({ nodeId, tenantId, clusterId });

    const [journal, applied, outbox] = await Promise.all([
      CommandJournal.open(config.stateDir),
      AppliedStateStore.open(config.stateDir),
      UpdateOutbox.open(config.stateDir),
    ]);
    const applier = new RevisionApplier({ nodeName: nodeName || config.nodeName, drivers: this.drivers, profile: nodeHostProfile(config.haproxy, config.galera), applied });
    const execute = (command: VerifiedCommand, log: Logger): Promise<CommandResult> => {
      switch (command.verb) {
        case 'apply_revision':
          return applier.apply(command, log);
        case 'run_action':
          if (!this.actions) return Promise.reject(new ActionRefusedError('this agent runs no node actions'));
          return this.actions.run(command.params, log);
      }
    };
    const runner = new CommandRunner({ identity, journal, outbox, execute, logger: this.log });
    await runner.reportInterrupted();

    for (const driver of this.drivers) {
      try {
        await driver.start();
        this.started.push(driver);
      } catch (e) {
        // The agent stays up to report it: heartbeats show the component DOWN.
        this.started.push(driver);
        this.log.error({ component: driver.component, err: (e as Error).message }, 'component did not start');
      }
    }

    this.stream = new ControlStream({
      client: this.client,
      identity,
      outbox,
      logger: this.log,
      hello: async () => ({
        agentVersion: AGENT_VERSION,
        appliedRevision: applied.current.revision,
        appliedGeneration: applied.current.generation,
        facts: await this.facts(),
        appliedArtifacts: await applier.reportedDigests(),
      }),
      heartbeat: async () => ({
        appliedRevision: applied.current.revision,
        components: await this.probes.sample(),
        appliedArtifacts: await applier.reportedDigests(),
        sentAtMs: Date.now(),
      }),
    });
    this.stream.start();
    this.consumer = new CommandConsumer({ identity, runner, logger: this.log });
    this.consumer.start();
    this.log.info({ nodeName, agentVersion: AGENT_VERSION, appliedRevision: applied.current.revision }, 'agent started');
  }

  async stop(): Promise<void> {
    this.abort.abort();
    // Components are stopped even when NATS or the control plane are slow to let go.
    await Promise.allSettled([this.consumer?.stop(), this.stream?.stop()]);
    await this.probes.settle();
    for (const driver of this.started.reverse()) {
      await driver.stop().catch((e: unknown) => this.log.error({ component: driver.component, err: (e as Error).message }, 'component did not stop'));
    }
    this.started = [];
    this.client?.close();
    this.log.info('agent stopped');
  }

  private async facts(): Promise<Facts> {
    const versions: Record<string, string> = {};
    for (const d of this.drivers) {
      const v = await d.version();
      if (v) versions[d.component] = v;
    }
    return collectFacts(versions);
  }


}
