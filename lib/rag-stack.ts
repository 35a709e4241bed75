import { CfnOutput, type Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { RagApi, type RagApiProps } from './constructs/rag-api.js';
import { RagMonitoring } from './constructs/rag-monitoring.js';
import { tagTwinResources } from './constructs/tags.js';

export interface RagStackProps extends StackProps, RagApiProps {
  readonly alerts: sns.ITopic;
  readonly errorRatePercent?: number;
  readonly p95Latency?: Duration;
}

/** The twin's inference service: the API, its function, alarms and dashboard. */
export class RagStack extends Stack {
  readonly rag: RagApi;
  readonly monitoring: RagMonitoring;

  constructor(scope: Construct, id: string, props: RagStackProps) {
    super(scope, id, props);
    tagTwinResources(this, props.stage);
    this.rag = new RagApi(this, 'Rag', props);
    this.monitoring = new RagMonitoring(this, 'Monitoring', {
      stage: props.stage,
      api: this.rag.api,
      function: this.rag.function,
      alerts: props.alerts,
      ...(props.errorRatePercent === undefined ? {} : { errorRatePercent: props.errorRatePercent }),
      ...(props.p95Latency ? { p95Latency: props.p95Latency } : {}),
    });
    new CfnOutput(this, 'RagUrl', {
      value: this.rag.api.urlForPath('/rag'),
      description: 'POST {"query": "..."} here, with the x-api-key header',
    });
    if (this.rag.apiKey) {
      new CfnOutput(this, 'ApiKeyId', {
        value: this.rag.apiKey.keyId,
        description: 'Read the key with: aws apigateway get-api-key --include-value --api-key <this>',
      });
    }
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });
  }
}
