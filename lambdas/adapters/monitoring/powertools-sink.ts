import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { RequestTrace, TraceSink } from '../../ports/request-trace.js';

/**
 * Every RAG trace to CloudWatch: the whole trace as one structured log line, and EMF metrics
 * (requests, errors, latency in all and per step, flagged queries, redacted answers) that the
 * dashboard and alarms read. Metrics are published per trace, because a streamed reply outlives
 * the handler's own middleware.
 */
export class PowertoolsTraceSink implements TraceSink {
  constructor(
    private readonly logger: Logger,
    private readonly metrics?: Metrics,
  ) {}

  record(trace: RequestTrace): Promise<void> {
    if (trace.error) this.logger.warn('rag request failed', { trace });
    else this.logger.info('rag request', { trace });
    const metrics = this.metrics;
    if (!metrics) return Promise.resolve();
    metrics.addMetric('Requests', MetricUnit.Count, 1);
    metrics.addMetric('Failures', MetricUnit.Count, trace.error ? 1 : 0);
    metrics.addMetric('Latency', MetricUnit.Milliseconds, trace.durationMs);
    metrics.addMetric(
      'FlaggedQueries',
      MetricUnit.Count,
      trace.flags.includes('possible-prompt-injection') ? 1 : 0,
    );
    metrics.addMetric(
      'RedactedAnswers',
      MetricUnit.Count,
      trace.flags.some((flag) => flag.startsWith('answer-redacted')) ? 1 : 0,
    );
    metrics.publishStoredMetrics();
    for (const step of trace.steps) {
      const single = metrics.singleMetric();
      single.addDimension('Step', step.name);
      single.addMetric('StepLatency', MetricUnit.Milliseconds, step.durationMs);
    }
    return Promise.resolve();
  }
}
