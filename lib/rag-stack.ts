import { CfnOutput, type Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { RagApi, type RagApiProps } from './constructs/rag-api.js';
import { RagMonitoring } from './constructs/rag-monitoring.js';
import { tagTwinResources } from './constructs/tags.js';
import { WorkspaceApi } from './constructs/workspace-api.js';

export interface RagStackProps extends StackProps, RagApiProps {
  readonly alerts: sns.ITopic;
  readonly errorRatePercent?: number;
  readonly p95Latency?: Duration;
  /** Adds the web app's workspace routes (author links in `artifacts`, runs of `etlWorkflow`). */
  readonly workspace?: { artifacts: s3.IBucket; etlWorkflow: sfn.IStateMachine };
}

/** The twin's inference service: the API, its function, alarms and dashboard. */
export class RagStack extends Stack {
  readonly rag: RagApi;
  readonly monitoring: RagMonitoring;
  readonly workspace?: WorkspaceApi;

  constructor(scope: Construct, id: string, props: RagStackProps) {
    super(scope, id, props);
    tagTwinResources(this, props.stage);
    this.rag = new RagApi(this, 'Rag', {
      ...props,
      ...(props.workspace ? { artifacts: props.workspace.artifacts } : {}),
    });
    if (props.workspace) {
      this.workspace = new WorkspaceApi(this, 'Workspace', {
        api: this.rag.api,
        methodAuth: this.rag.methodAuth,
        secrets: props.secrets,
        ...props.workspace,
        ...(props.corsOrigins ? { corsOrigins: props.corsOrigins } : {}),
      });
    }
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
