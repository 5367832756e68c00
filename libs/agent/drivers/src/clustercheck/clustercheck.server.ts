import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@triad/logging';
import { WSREP_DONOR, WSREP_SYNCED } from '../probes/galera-health';

export interface ClustercheckVerdict {
  status: 200 | 503;
  body: string;
}

/**
 * Pure: the answer of the classic clustercheck script. 200 only when the node is Synced (or a
 * donor, when donors may serve); haproxy's `option httpchk` reads only the status.
 */
export function clustercheckVerdict(localState: number | undefined, availableWhenDonor: boolean): ClustercheckVerdict {
  if (localState === WSREP_SYNCED || (availableWhenDonor && localState === WSREP_DONOR)) {
    return { status: 200, body: 'Galera cluster node is synced.\r\n' };
  }
  return { status: 503, body: 'Galera cluster node is not synced.\r\n' };
}

export interface ClustercheckServerOptions {
  /** The node's internal address: haproxy on every controller checks it there. */
  host: string;
  /** galera.clustercheckPort of the spec (9200 by default); 0 picks a free port (tests). */
  port: number;
  /** wsrep_local_state of the local node, undefined when mariadbd does not answer. */
  localState: () => Promise<number | undefined>;
  availableWhenDonor?: boolean;
  logger: Logger;
}

/** The Galera clustercheck endpoint haproxy health-checks: any path, any method, answers from one status query. */
export class ClustercheckServer {
  private server: Server | undefined;
  /** The status query in flight: concurrent checks (one per haproxy) share it instead of each running the CLI. */
  private inFlight: Promise<number | undefined> | undefined;

  constructor(private readonly opts: ClustercheckServerOptions) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      req.resume();
      void this.sharedLocalState().then((state) => {
        const v = clustercheckVerdict(state, this.opts.availableWhenDonor ?? false);
        res.writeHead(v.status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(v.body), Connection: 'close' });
        res.end(v.body);
      });
    });
    // haproxy checks every 2 s from every controller: keep nothing open between checks.
    server.keepAliveTimeout = 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.opts.logger.info({ host: this.opts.host, port: this.port }, 'clustercheck listening');
  }

  private sharedLocalState(): Promise<number | undefined> {
    this.inFlight ??= this.opts
      .localState()
      .catch(() => undefined)
      .finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  /** The bound port (the configured one, or the one the system picked for 0). */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.opts.port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
