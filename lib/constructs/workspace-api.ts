import { Arn, ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import type { SecretSetting } from '../../lambdas/settings/settings.js';
import { ACCESS_POLICY_KEY } from '../../lambdas/access/policy-store.js';
import { RUN_CLAIMS_PREFIX } from '../../lambdas/adapters/runs/s3-run-claims.js';
import { EXPORT_UPLOADS_PREFIX } from '../../lambdas/ports/export-uploads.js';
import { AUTHOR_CONFIGS_PREFIX } from '../../lambdas/workspace/author-links.js';
import { suppressFunctionBaseline } from './function-suppressions.js';
import { TwinFunction } from './node-function.js';
import type { TwinSecrets } from './twin-secrets.js';

const WORKSPACE_SECRETS: SecretSetting[] = ['MONGODB_URI', 'QDRANT_URL', 'QDRANT_API_KEY'];

export interface WorkspaceApiProps {
  /** The twin's API; the workspace routes join it, with the same auth. */
  readonly api: apigateway.RestApi;
  readonly methodAuth: apigateway.MethodOptions;
  readonly secrets: TwinSecrets;
  /** Author link lists live under author-configs/ here. */
  readonly artifacts: s3.IBucket;
  /** Collection runs are executions of this workflow. */
  readonly etlWorkflow: sfn.IStateMachine;
  readonly corsOrigins?: readonly string[];
}

/**
 * The web app's management routes on the twin's API (GET/PUT /authors, POST /collection-runs,
 * GET /collection-runs/{id}, GET /stats), served by one small zip-bundled function that may read and
 * write the link lists, start and describe ETL executions, and read the warehouse and feature store.
 */
export class WorkspaceApi extends Construct {
  readonly function: TwinFunction['function'];

  constructor(scope: Construct, id: string, props: WorkspaceApiProps) {
    super(scope, id);
    this.function = new TwinFunction(this, 'Workspace', {
      handlerName: 'workspace',
      description: "The web app's API: author links, collection runs, counts",
      timeout: Duration.seconds(20),
      environment: {
        TWIN_WAREHOUSE: 'mongodb',
        TWIN_VECTOR_STORE: 'qdrant',
        ARTIFACT_BUCKET: props.artifacts.bucketName,
        ETL_STATE_MACHINE_ARN: props.etlWorkflow.stateMachineArn,
        ...(props.corsOrigins?.length ? { TWIN_CORS_ORIGINS: props.corsOrigins.join(',') } : {}),
        ...props.secrets.environmentFor(WORKSPACE_SECRETS),
      },
    }).function;
    props.secrets.grantRead(this.function, WORKSPACE_SECRETS);
    props.artifacts.grantReadWrite(this.function, `${AUTHOR_CONFIGS_PREFIX}*`);
    // One run per author: the claim objects, written with conditional puts (s3-run-claims.ts).
    props.artifacts.grantReadWrite(this.function, `${RUN_CLAIMS_PREFIX}*`);
    // Presigned POSTs for uploaded exports are signed with this role: it may put under exports/ only.
    props.artifacts.grantPut(this.function, `${EXPORT_UPLOADS_PREFIX}*`);
    props.artifacts.grantRead(this.function, ACCESS_POLICY_KEY);
    props.etlWorkflow.grantStartExecution(this.function);
    // Describe only this workflow's executions (their ARNs share the state machine's name).
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['states:DescribeExecution'],
        resources: [
          Arn.format(
            {
              service: 'states',
              resource: 'execution',
              resourceName: `${Arn.split(props.etlWorkflow.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName ?? '*'}:*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            },
            Stack.of(this),
          ),
        ],
      }),
    );

    const integration = new apigateway.LambdaIntegration(this.function, { proxy: true });
    const options = props.methodAuth;
    const authors = props.api.root.addResource('authors');
    authors.addMethod('GET', integration, options);
    authors.addMethod('PUT', integration, options);
    const runs = props.api.root.addResource('collection-runs');
    runs.addMethod('POST', integration, options);
    runs.addResource('{id}').addMethod('GET', integration, options);
    props.api.root.addResource('stats').addMethod('GET', integration, options);
    // Upload tickets; the upload itself goes from the browser straight to the bucket.
    props.api.root.addResource('exports').addMethod('POST', integration, options);
    props.api.root.addResource('me').addMethod('GET', integration, options);

    suppressFunctionBaseline(this.function, [
      {
        id: 'AwsSolutions-IAM5',
        reason:
          'Objects under author-configs/ and collection-runs/authors/ only (grantReadWrite on those prefixes), puts under exports/ (the presigned upload policy), and the executions of the ETL workflow only (their ARNs end in a run name).',
        appliesTo: [
          'Action::s3:Abort*',
          'Action::s3:DeleteObject*',
          'Action::s3:GetBucket*',
          'Action::s3:GetObject*',
          'Action::s3:List*',
          { regex: '/^Resource::.*\\/author-configs\\/\\*$/' },
          { regex: '/^Resource::.*\\/collection-runs\\/authors\\/\\*$/' },
          { regex: '/^Resource::.*\\/exports\\/\\*$/' },
          { regex: '/^Resource::arn:<AWS::Partition>:states:.*:execution:.*:\\*$/' },
        ],
      },
    ]);
    if (props.methodAuth.authorizationType !== apigateway.AuthorizationType.COGNITO) {
      NagSuppressions.addResourceSuppressions(
        props.api,
        [
          {
            id: 'AwsSolutions-APIG4',
            reason: 'The workspace routes use the same auth as POST /rag: API key with a usage plan, or IAM.',
          },
          {
            id: 'AwsSolutions-COG4',
            reason: 'The workspace routes use the same auth as POST /rag: API key with a usage plan, or IAM.',
          },
        ],
        true,
      );
    }
  }
}
