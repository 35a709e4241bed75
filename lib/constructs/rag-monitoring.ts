import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface RagMonitoringProps {
  readonly stage: string;
  readonly api: apigateway.RestApi;
  readonly function: lambda.IFunction;
  readonly alerts: sns.ITopic;
  /** Alarm when more than this share of requests fail with 5xx over 5 minutes. Default 5 (%). */
  readonly errorRatePercent?: number;
  /** Alarm when the p95 latency exceeds this. Default 10 s (a streamed answer counts until its end). */
  readonly p95Latency?: Duration;
}

/** The steps a RAG request goes through, as the function reports them (StepLatency by Step). */
const STEPS = ['self_query', 'query_expansion', 'search', 'rerank', 'prompt', 'generation'];
const NAMESPACE = 'LlmTwin';
const FIVE_MINUTES = Duration.minutes(5);

/** Alarms on the twin API's 5xx rate and p95 latency (to the alerts topic), and a dashboard. */
export class RagMonitoring extends Construct {
  readonly errorRateAlarm: cloudwatch.Alarm;
  readonly latencyAlarm: cloudwatch.Alarm;
  readonly functionErrorsAlarm: cloudwatch.Alarm;
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: RagMonitoringProps) {
    super(scope, id);
    const { api } = props;
    const requests = api.metricCount({ period: FIVE_MINUTES, statistic: 'Sum' });
    const serverErrors = api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' });
    const clientErrors = api.metricClientError({ period: FIVE_MINUTES, statistic: 'Sum' });
    const errorRate = new cloudwatch.MathExpression({
      label: '5xx rate (%)',
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      usingMetrics: { requests, errors: serverErrors },
      period: FIVE_MINUTES,
    });
    const p95 = api.metricLatency({ period: FIVE_MINUTES, statistic: 'p95' });

    this.errorRateAlarm = errorRate.createAlarm(this, 'ErrorRate', {
      alarmName: `llm-twin-${props.stage}-rag-5xx-rate`,
      alarmDescription: 'More than the allowed share of twin API requests failed with a 5xx.',
      threshold: props.errorRatePercent ?? 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.latencyAlarm = p95.createAlarm(this, 'Latency', {
      alarmName: `llm-twin-${props.stage}-rag-p95-latency`,
      alarmDescription: 'The twin API is slow: p95 latency above the threshold.',
      threshold: (props.p95Latency ?? Duration.seconds(10)).toMilliseconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.functionErrorsAlarm = props.function
      .metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' })
      .createAlarm(this, 'FunctionErrors', {
        alarmName: `llm-twin-${props.stage}-rag-function-errors`,
        alarmDescription: 'The RAG function crashed (an error the API could not turn into a reply).',
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    for (const alarm of [this.errorRateAlarm, this.latencyAlarm, this.functionErrorsAlarm]) {
      alarm.addAlarmAction(new actions.SnsAction(props.alerts));
      alarm.addOkAction(new actions.SnsAction(props.alerts));
    }

    const custom = (metricName: string, statistic: string, dimensions: Record<string, string> = {}) =>
      new cloudwatch.Metric({
        namespace: NAMESPACE,
        metricName,
        statistic,
        period: FIVE_MINUTES,
        dimensionsMap: { service: 'rag', ...dimensions },
      });
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `llm-twin-${props.stage}-rag`,
      defaultInterval: Duration.hours(6),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Requests and errors',
        left: [requests, clientErrors, serverErrors],
        right: [errorRate],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Latency (API Gateway)',
        left: ['p50', 'p95', 'p99'].map((statistic) =>
          api.metricLatency({ period: FIVE_MINUTES, statistic }),
        ),
        leftAnnotations: [this.latencyAlarm.toAnnotation()],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Step latency p95 (ms)',
        left: STEPS.map((step) => custom('StepLatency', 'p95', { Step: step }).with({ label: step })),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Guardrails',
        left: [
          custom('FlaggedQueries', 'Sum').with({ label: 'flagged queries (possible injection)' }),
          custom('RedactedAnswers', 'Sum').with({ label: 'answers with redactions' }),
          custom('Failures', 'Sum').with({ label: 'failed requests' }),
        ],
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'RAG function',
        left: [props.function.metricInvocations(), props.function.metricThrottles()],
        right: [props.function.metricDuration({ statistic: 'p95' })],
        width: 6,
      }),
    );
  }
}
