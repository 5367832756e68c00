import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * The agent's configuration: parsed once at start from the environment. This is the only agent
 * file that reads `process.env`; everything else receives `AgentConfig`.
 */
const optionalPath = z.string().min(1).optional();

/** A JSON array of argv arrays: `[["systemctl","start","corosync"]]`. */
const argvList = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON array of argv arrays, e.g. [["systemctl","start","corosync"]]' });
      return z.NEVER;
    }
  })
  .pipe(z.array(z.array(z.string().min(1)).min(1)).min(1, { error: 'name at least one command' }));

/** Components an agent can configure; each has a driver wired in apps/agent/src/main.ts. */
export const AGENT_COMPONENTS = ['haproxy', 'pacemaker', 'corosync', 'galera', 'rabbitmq'] as const;
export type AgentComponent = (typeof AGENT_COMPONENTS)[number];

export const agentConfigSchema = z
  .object({
    /** gRPC address of the control plane, host:port. */
    TRIAD_CONTROL_PLANE: z.string().regex(/^[^\s/]+:\d{1,5}$/, { error: 'must be host:port' }),
    /** One-time enrollment token; only read when the node has no identity yet. */
    TRIAD_ENROLLMENT_TOKEN: z.string().min(1).optional(),
    TRIAD_STATE_DIR: z.string().min(1).default('/var/lib/triad-agent'),
    TRIAD_NODE_NAME: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, { error: 'must be a lower-case host name' }).optional(),
    /** CA bundle (PEM) that signs the control plane's certificate; without it the system's trusted CAs. */
    TRIAD_GRPC_TLS_CA_FILE: optionalPath,
    /**
     * Talk to the control plane without TLS: development and labs only (the enrollment token and
     * the agent's credentials cross the network in clear). Without it the channel is always TLS.
     */
    TRIAD_GRPC_INSECURE: z
      .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
      .default('false')
      .transform((v) => v === 'true' || v === '1'),
    /**
     * sha256 of the control plane's command-signing key (createEnrollmentToken returns it). When
     * set, enrollment refuses any other key: a man in the middle cannot slip in its own.
     */
    TRIAD_COMMAND_KEY_SHA256: z.string().regex(/^[0-9a-f]{64}$/, { error: 'must be 64 lower-case hex characters' }).optional(),
    TRIAD_HAPROXY_MODE: z.enum(['managed', 'external']).default('managed'),
    TRIAD_HAPROXY_BIN: z.string().min(1).default('/usr/sbin/haproxy'),
    TRIAD_HAPROXY_CONFIG: z.string().min(1).default('/etc/haproxy/haproxy.cfg'),
    TRIAD_HAPROXY_MASTER_SOCKET: optionalPath,
    TRIAD_HAPROXY_STATS_SOCKET: z.string().min(1).default('/run/haproxy/admin.sock'),
    TRIAD_HAPROXY_BIND_ADDRESS: z.string().min(1).optional(),
    /** Rendered as haproxy.cfg's global `maxconn` when the host's open-file limit cannot start the default 20480. */
    TRIAD_HAPROXY_MAXCONN: z.coerce.number().int().positive().optional(),
    /** syslog target of haproxy.cfg's `log` line; `none` logs nothing (hosts without syslog, labs). */
    TRIAD_HAPROXY_LOG_TARGET: z.string().min(1).default('/dev/log'),
    /**
     * How this host starts / stops Corosync and Pacemaker (the cluster stack): a JSON array of argv
     * arrays, run in order. A start command returns once the daemons are launched (like systemctl).
     */
    TRIAD_CLUSTER_STACK_START: argvList.default([['systemctl', 'start', 'corosync', 'pacemaker']]),
    TRIAD_CLUSTER_STACK_STOP: argvList.default([['systemctl', 'stop', 'pacemaker', 'corosync']]),
    /** Components this agent configures, comma-separated (docs/agent.md). */
    TRIAD_COMPONENTS: z
      .string()
      .default('haproxy')
      .transform((list) => list.split(',').map((c) => c.trim()).filter(Boolean))
      .pipe(z.array(z.enum(AGENT_COMPONENTS)).min(1, { error: 'name at least one component' })),
    TRIAD_COROSYNC_CONFIG: z.string().min(1).default('/etc/corosync/corosync.conf'),
    /** A file-backed CIB (Pacemaker's CIB_file) instead of the running cluster: offline nodes, tests. */
    TRIAD_PACEMAKER_CIB_FILE: optionalPath,
    /** pacemaker: ocf:heartbeat:galera runs mariadbd, the agent only installs galera.cnf; managed: the agent restarts it. */
    TRIAD_GALERA_MODE: z.enum(['pacemaker', 'managed']).default('pacemaker'),
    /** The node's internal address: the clustercheck endpoint haproxy checks binds it (required with galera). */
    TRIAD_GALERA_CLUSTERCHECK_ADDRESS: z.string().min(1).optional(),
    /** Must equal the spec's galera.clustercheckPort. */
    TRIAD_GALERA_CLUSTERCHECK_PORT: z.coerce.number().int().min(1).max(65535).default(9200),
    /** mariabackup SST: file holding the SST user's password (the spec's galera.sstPassword, resolved). */
    TRIAD_GALERA_SST_PASSWORD_FILE: optionalPath,
    /**
     * What the CIB's galera resource starts (its `binary`); unset: the resource agent's default,
     * mysqld_safe. Labs whose controllers share one PID namespace set /usr/sbin/mariadbd: when its
     * mariadbd dies, mysqld_safe kills every process on the host with the same command line and
     * pid file — every controller's mariadbd (docs/lab.md).
     */
    TRIAD_GALERA_SERVER_BINARY: z.string().regex(/^\//, { error: 'must be an absolute path' }).optional(),
    TRIAD_GALERA_SST_USER: z.string().regex(/^[A-Za-z0-9_]{1,80}$/, { error: 'must be a MariaDB user name' }).default('triad_sst'),
    /** pacemaker: ocf:heartbeat:rabbitmq-cluster runs RabbitMQ, the agent only installs its files; managed: the agent restarts it. */
    TRIAD_RABBITMQ_MODE: z.enum(['pacemaker', 'managed']).default('pacemaker'),
    /** HOME of rabbitmqctl and the server: holds .erlang.cookie. */
    TRIAD_RABBITMQ_HOME: z.string().min(1).default('/var/lib/rabbitmq'),
    /** File holding the Erlang cookie (the spec's rabbitmq.erlangCookie, resolved); installed as HOME/.erlang.cookie. */
    TRIAD_RABBITMQ_COOKIE_FILE: optionalPath,
    TRIAD_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** How long SIGTERM/SIGINT may take before the agent gives up waiting and exits. */
    TRIAD_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  })
  .superRefine((env, ctx) => {
    if (env.TRIAD_GRPC_INSECURE && env.TRIAD_GRPC_TLS_CA_FILE) {
      ctx.addIssue({ code: 'custom', path: ['TRIAD_GRPC_INSECURE'], message: 'contradicts TRIAD_GRPC_TLS_CA_FILE: set one or the other' });
    }
    if (env.TRIAD_COMPONENTS.includes('galera') && !env.TRIAD_GALERA_CLUSTERCHECK_ADDRESS) {
      ctx.addIssue({ code: 'custom', path: ['TRIAD_GALERA_CLUSTERCHECK_ADDRESS'], message: 'required when TRIAD_COMPONENTS includes galera (the internal address haproxy checks)' });
    }
  })
  .transform((env) => ({
    controlPlane: env.TRIAD_CONTROL_PLANE,
    enrollmentToken: env.TRIAD_ENROLLMENT_TOKEN,
    stateDir: env.TRIAD_STATE_DIR,
    nodeName: env.TRIAD_NODE_NAME ?? hostname().split('.')[0].toLowerCase(),
    grpcTlsCaFile: env.TRIAD_GRPC_TLS_CA_FILE,
    grpcInsecure: env.TRIAD_GRPC_INSECURE,
    commandKeySha256: env.TRIAD_COMMAND_KEY_SHA256,
    logLevel: env.TRIAD_LOG_LEVEL,
    shutdownTimeoutMs: env.TRIAD_SHUTDOWN_TIMEOUT_MS,
    components: [...new Set(env.TRIAD_COMPONENTS)],
    corosync: { configFile: env.TRIAD_COROSYNC_CONFIG },
    clusterStack: { start: env.TRIAD_CLUSTER_STACK_START, stop: env.TRIAD_CLUSTER_STACK_STOP },
    pacemaker: { cibFile: env.TRIAD_PACEMAKER_CIB_FILE, workDir: join(env.TRIAD_STATE_DIR, 'pacemaker') },
    galera: {
      mode: env.TRIAD_GALERA_MODE,
      clustercheck: { host: env.TRIAD_GALERA_CLUSTERCHECK_ADDRESS ?? '', port: env.TRIAD_GALERA_CLUSTERCHECK_PORT },
      serverBinary: env.TRIAD_GALERA_SERVER_BINARY,
      sst: env.TRIAD_GALERA_SST_PASSWORD_FILE ? { user: env.TRIAD_GALERA_SST_USER, passwordFile: env.TRIAD_GALERA_SST_PASSWORD_FILE } : undefined,
    },
    rabbitmq: { mode: env.TRIAD_RABBITMQ_MODE, home: env.TRIAD_RABBITMQ_HOME, cookieFile: env.TRIAD_RABBITMQ_COOKIE_FILE },
    haproxy: {
      mode: env.TRIAD_HAPROXY_MODE,
      bin: env.TRIAD_HAPROXY_BIN,
      configFile: env.TRIAD_HAPROXY_CONFIG,
      // In managed mode the agent starts haproxy with -S on this socket; default it beside the state.
      masterSocket: env.TRIAD_HAPROXY_MASTER_SOCKET ?? join(env.TRIAD_STATE_DIR, 'haproxy-master.sock'),
      statsSocket: env.TRIAD_HAPROXY_STATS_SOCKET,
      bindAddress: env.TRIAD_HAPROXY_BIND_ADDRESS,
      maxconn: env.TRIAD_HAPROXY_MAXCONN,
      logTarget: env.TRIAD_HAPROXY_LOG_TARGET === 'none' ? undefined : env.TRIAD_HAPROXY_LOG_TARGET,
    },
  }));

export type AgentConfig = z.output<typeof agentConfigSchema>;

export class AgentConfigError extends Error {}

/** Parses the environment (default `process.env`); throws one error listing every bad key. */
export function loadAgentConfig(env: Record<string, string | undefined> = process.env): AgentConfig {
  const parsed = agentConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new AgentConfigError(`invalid agent configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
