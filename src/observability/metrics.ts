// Owns the Prometheus registry and every metric the bot exports on /metrics. One registry per process;
// modules import the metric they update, so names and labels live in one place.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'qab_' });

export const httpRequests = new Counter({
  name: 'qab_http_requests_total',
  help: 'HTTP requests served, by route and status',
  labelNames: ['route', 'status'] as const,
  registers: [registry],
});

export const commands = new Counter({
  name: 'qab_commands_total',
  help: 'Slash commands received, by subcommand and outcome',
  labelNames: ['command', 'outcome'] as const,
  registers: [registry],
});

export const requestTransitions = new Counter({
  name: 'qab_request_transitions_total',
  help: 'Request state transitions, by the state entered',
  labelNames: ['state'] as const,
  registers: [registry],
});

export const jobs = new Counter({
  name: 'qab_jobs_total',
  help: 'Worker jobs finished, by queue, job name and outcome',
  labelNames: ['queue', 'name', 'outcome'] as const,
  registers: [registry],
});

export const jobDuration = new Histogram({
  name: 'qab_job_duration_seconds',
  help: 'Worker job duration, by job name and outcome',
  labelNames: ['name', 'outcome'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry],
});

const qlikCalls = new Counter({
  name: 'qab_qlik_calls_total',
  help: 'Qlik API calls, by endpoint and HTTP status (0 = network error)',
  labelNames: ['endpoint', 'status'] as const,
  registers: [registry],
});

const qlikCallDuration = new Histogram({
  name: 'qab_qlik_call_duration_seconds',
  help: 'Qlik API call duration, by endpoint',
  labelNames: ['endpoint'] as const,
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const queueDepth = new Gauge({
  name: 'qab_queue_depth',
  help: 'Jobs waiting or delayed, by queue and state (sampled at scrape time)',
  labelNames: ['queue', 'state'] as const,
  registers: [registry],
});

/** Records one Qlik call; wired as the QlikClient's onCall hook. */
export function recordQlikCall(e: { endpoint: string; status: number; durationMs: number }): void {
  qlikCalls.inc({ endpoint: e.endpoint, status: String(e.status) });
  qlikCallDuration.observe({ endpoint: e.endpoint }, e.durationMs / 1000);
}
