import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The api's Prometheus registry: process metrics plus HTTP requests by route and status. */
export class MetricsRegistry {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'triad_api_http_requests_total',
    help: 'HTTP requests served, by route and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'triad_api_http_request_duration_seconds',
    help: 'HTTP request latency, by route.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'triad_api_' });
  }
}
