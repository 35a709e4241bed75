import { Arn, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { grantUnscopedActions } from './unscoped-actions.js';
import { suppressFunctionBaseline } from './function-suppressions.js';
import { TwinFunction } from './node-function.js';
import { TGI_ENVIRONMENT, type TwinEndpoint } from './twin-endpoint.js';
import { Workflow } from './workflow.js';

export interface DeploymentPipelineProps {
  readonly stage: string;
  readonly endpoint: TwinEndpoint;
  readonly modelPackageGroupName: string;
  readonly alerts: sns.ITopic;
  /** Rollback when the new fleet's p95 model latency exceeds this. Default 10 s. */
  readonly latencyThreshold?: Duration;
  /** How long the new fleet takes traffic, watched by the alarms, before the old one goes. Default 10 min. */
  readonly bake?: Duration;
}

/**
 * Rolling an approved model out to the endpoint (statemachines/deployment.asl.json): the alarms that
 * make SageMaker roll a deployment back by itself, the deployment function and the workflow.
 */
export class DeploymentPipeline extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly rollbackAlarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: DeploymentPipelineProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { endpointName, hosting } = props.endpoint;
    const endpointMetric = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/SageMaker',
        metricName,
        statistic,
        period: Duration.minutes(1),
        dimensionsMap: props.endpoint.invocationDimensions,
      });
    this.rollbackAlarms = [
      endpointMetric('Invocation5XXErrors', 'Sum').createAlarm(this, 'ServerErrors', {
        alarmName: `${endpointName}-endpoint-5xx`,
        alarmDescription:
          'The twin endpoint answers with 5xx errors: a deployment in progress is rolled back.',
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      endpointMetric('ModelLatency', 'p95').createAlarm(this, 'Latency', {
        alarmName: `${endpointName}-endpoint-latency`,
        alarmDescription:
          'The twin endpoint is slow (p95 model latency): a deployment in progress is rolled back.',
        // ModelLatency is reported in microseconds.
        threshold: (props.latencyThreshold ?? Duration.seconds(10)).toMilliseconds() * 1000,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];

    // SageMaker watches the rollback alarms during a deployment with the endpoint's execution role;
    // without DescribeAlarms on them, it cannot roll anything back.
    props.endpoint.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:DescribeAlarms'],
        resources: this.rollbackAlarms.map((alarm) => alarm.alarmArn),
      }),
    );

    const arn = (resource: string, resourceName: string) =>
      Arn.format({ service: 'sagemaker', resource, resourceName }, stack);
    const fn = new TwinFunction(this, 'Deployment', {
      handlerName: 'deployment',
      description: 'Deployment workflow: plans the rollout of an approved model, smoke-tests the endpoint',
      timeout: Duration.minutes(2),
      memorySize: 512,
      environment: {
        STAGE: props.stage,
        ENDPOINT_NAME: endpointName,
        ENDPOINT_ROLE_ARN: props.endpoint.role.roleArn,
        ...(hosting.kind === 'variant'
          ? { INSTANCE_TYPE: hosting.instanceType, MIN_INSTANCES: String(hosting.minInstances) }
          : { INFERENCE_COMPONENT: hosting.inferenceComponentName }),
        MODEL_PACKAGE_GROUP: props.modelPackageGroupName,
        // The names as set above (alarmName itself is a deploy-time reference).
        ROLLBACK_ALARMS: [`${endpointName}-endpoint-5xx`, `${endpointName}-endpoint-latency`].join(','),
        TGI_ENVIRONMENT: JSON.stringify(TGI_ENVIRONMENT),
        BAKE_SECONDS: String((props.bake ?? Duration.minutes(10)).toSeconds()),
      },
    }).function;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['sagemaker:DescribeModelPackage'],
        resources: [arn('model-package', `${props.modelPackageGroupName}/*`)],
      }),
    );
    grantUnscopedActions(this, 'ListModelPackages', fn.role, {
      actions: ['sagemaker:ListModelPackages'],
      reason: 'ListModelPackages has no resource-level permission.',
    });
    const endpointArn = arn('endpoint', endpointName.toLowerCase());
    const componentArn =
      hosting.kind === 'inference-component'
        ? arn('inference-component', hosting.inferenceComponentName.toLowerCase())
        : undefined;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['sagemaker:DescribeEndpoint', 'sagemaker:InvokeEndpoint'],
        resources: [endpointArn, ...(componentArn ? [componentArn] : [])],
      }),
    );
    if (componentArn) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['sagemaker:DescribeInferenceComponent'],
          resources: [componentArn],
        }),
      );
    }

    this.stateMachine = new Workflow(this, 'Workflow', {
      definitionFile: 'deployment.asl.json',
      comment:
        'Deployment: approved model -> blue/green (or rolling component) update with alarm rollback -> smoke test -> notify',
      substitutions: { DeploymentFunctionArn: fn.functionArn, AlertsTopicArn: props.alerts.topicArn },
      invokes: [fn],
      timeout: Duration.hours(4),
    }).stateMachine;
    this.stateMachine.addToRolePolicy(
      componentArn
        ? new iam.PolicyStatement({
            actions: ['sagemaker:CreateModel', 'sagemaker:AddTags'],
            resources: [arn('model', 'twin-*')],
          })
        : new iam.PolicyStatement({
            actions: ['sagemaker:CreateModel', 'sagemaker:CreateEndpointConfig', 'sagemaker:AddTags'],
            resources: [arn('model', 'twin-*'), arn('endpoint-config', 'twin-*')],
          }),
    );
    this.stateMachine.addToRolePolicy(
      componentArn
        ? new iam.PolicyStatement({
            actions: [
              'sagemaker:UpdateInferenceComponent',
              'sagemaker:DescribeInferenceComponent',
              'sagemaker:UpdateInferenceComponentRuntimeConfig',
            ],
            resources: [componentArn],
          })
        : new iam.PolicyStatement({
            actions: ['sagemaker:CreateEndpoint', 'sagemaker:UpdateEndpoint', 'sagemaker:DescribeEndpoint'],
            resources: [endpointArn, arn('endpoint-config', '*')],
          }),
    );
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [props.endpoint.role.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
    );
    props.alerts.grantPublish(this.stateMachine);

    suppressFunctionBaseline(fn, [
      {
        id: 'AwsSolutions-IAM5',
        reason: 'packages are numbered within their one group.',
        appliesTo: [
          { regex: '/^Resource::arn:<AWS::Partition>:sagemaker:.*:model-package\\/llm-twin-.*\\/\\*$/' },
        ],
      },
    ]);
    NagSuppressions.addResourceSuppressions(
      this.stateMachine,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'Models and endpoint configurations are created under the twin-* prefix; updating the endpoint must reference the configuration it moves to or back to; publishing to the encrypted alerts topic needs its key.',
          appliesTo: [
            {
              regex: '/^Resource::arn:<AWS::Partition>:sagemaker:.*:(model|endpoint-config)\\/(twin-)?\\*$/',
            },
            'Action::kms:GenerateDataKey*',
          ],
        },
      ],
      true,
    );
  }
}
