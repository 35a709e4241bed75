import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { suppressBucketDeployment } from './constructs/function-suppressions.js';
import { tagTwinResources } from './constructs/tags.js';
import type { TwinUsers } from './constructs/twin-users.js';
import { WebApp } from './constructs/web-app.js';

export interface WebStackProps extends StackProps {
  readonly stage: string;
  readonly api: apigateway.RestApi;
  /** With auth=cognito: the user pool the web app signs people in to. */
  readonly users?: TwinUsers;
  /** The artifact bucket, which the app uploads exports to. */
  readonly uploads?: s3.IBucket;
  /** Keep the buckets (and their logs) when the stack is deleted. */
  readonly keepData?: boolean;
}

/** The web app: S3 + CloudFront, with the twin's API on the same origin. */
export class WebStack extends Stack {
  readonly web: WebApp;

  constructor(scope: Construct, id: string, props: WebStackProps) {
    super(scope, id, props);
    tagTwinResources(this, props.stage);
    this.web = new WebApp(this, 'Web', {
      api: props.api,
      removalPolicy: props.keepData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      ...(props.users ? { users: props.users } : {}),
      ...(props.uploads ? { uploads: props.uploads } : {}),
    });
    suppressBucketDeployment(
      this.web,
      'CDK’s BucketDeployment handler reads the CDK asset and writes the web app bucket (and invalidates index.html in the distribution).',
    );
    new CfnOutput(this, 'WebAppUrl', {
      value: `https://${this.web.distribution.distributionDomainName}/`,
      description: 'Open this; paste the API key (RagStack output ApiKeyId) under Connection',
    });
  }
}
