import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { TwinEndpoint, type EndpointScaling, type TwinModelSource } from './constructs/twin-endpoint.js';
import { tagTwinResources } from './constructs/tags.js';

export interface EndpointStackProps extends StackProps {
  readonly stage: string;
  readonly artifacts: s3.IBucket;
  readonly model: TwinModelSource;
  readonly instanceType?: string;
  readonly scaling?: EndpointScaling;
}

/** The twin's LLM endpoint (SageMaker, Hugging Face TGI), autoscaled. */
export class EndpointStack extends Stack {
  readonly twin: TwinEndpoint;

  constructor(scope: Construct, id: string, props: EndpointStackProps) {
    super(scope, id, props);
    tagTwinResources(this, props.stage);
    this.twin = new TwinEndpoint(this, 'Twin', props);
    new CfnOutput(this, 'EndpointName', {
      value: this.twin.endpointName,
      description: 'The RAG function answers with it: deploy the Rag stack with -c twinEndpoint=<this>',
    });
  }
}
