import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { DeploymentPipeline } from './constructs/deployment-pipeline.js';
import { TwinEndpoint, type EndpointScaling, type TwinModelSource } from './constructs/twin-endpoint.js';
import { tagTwinResources } from './constructs/tags.js';

export interface EndpointStackProps extends StackProps {
  readonly stage: string;
  readonly artifacts: s3.IBucket;
  readonly model: TwinModelSource;
  readonly instanceType?: string;
  readonly scaling?: EndpointScaling;
  readonly alerts: sns.ITopic;
  /** The registry group the deployment workflow takes approved models from. Default llm-twin-<stage>. */
  readonly modelPackageGroupName?: string;
}

/** The twin's LLM endpoint (SageMaker, Hugging Face TGI), autoscaled, and the workflow that deploys to it. */
export class EndpointStack extends Stack {
  readonly twin: TwinEndpoint;
  readonly deployment: DeploymentPipeline;

  constructor(scope: Construct, id: string, props: EndpointStackProps) {
    super(scope, id, props);
    tagTwinResources(this, props.stage);
    this.twin = new TwinEndpoint(this, 'Twin', props);
    this.deployment = new DeploymentPipeline(this, 'Deployment', {
      stage: props.stage,
      endpoint: this.twin,
      modelPackageGroupName: props.modelPackageGroupName ?? `llm-twin-${props.stage}`,
      alerts: props.alerts,
    });
    new CfnOutput(this, 'DeploymentWorkflowArn', {
      value: this.deployment.stateMachine.stateMachineArn,
      description:
        'Deploy the newest approved model: aws stepfunctions start-execution --state-machine-arn <this> --input "{}"',
    });
    new CfnOutput(this, 'EndpointName', {
      value: this.twin.endpointName,
      description: 'The RAG function answers with it: deploy the Rag stack with -c twinEndpoint=<this>',
    });
    if (this.twin.hosting.kind === 'inference-component') {
      new CfnOutput(this, 'InferenceComponentName', {
        value: this.twin.hosting.inferenceComponentName,
        description: 'The twin on that endpoint (it scales to zero): -c twinInferenceComponent=<this>',
      });
    }
  }
}
