import { Arn, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suppressBucketDeployment, suppressFunctionBaseline } from './function-suppressions.js';
import { grantUnscopedActions } from './unscoped-actions.js';
import { allowSyncWaiting, dlcImage, S3_PREFIX_GRANT_ACTIONS, sageMakerRole } from './sagemaker-access.js';
import { TwinFunction } from './node-function.js';
import type { TwinSecrets } from './twin-secrets.js';
import { Workflow } from './workflow.js';

const SAGEMAKER_SOURCE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'sagemaker');
const CODE_PREFIX = 'training-code/';
const TRAINING_REPOSITORY = 'huggingface-pytorch-training';
const TGI_REPOSITORY = 'huggingface-pytorch-tgi-inference';

export interface TrainingJobSettings {
  /** GPU instance for SFT and DPO. Default ml.g5.2xlarge (one A10G, as in the book). */
  readonly instanceType?: string;
  readonly evaluationInstanceType?: string;
  readonly volumeSizeGb?: number;
  readonly maxRuntime?: Duration;
  /** Managed spot training (cheaper, interruptible; checkpoints make it resume). Default off. */
  readonly spot?: boolean;
  readonly maxWait?: Duration;
  /** Average judge score a candidate must beat the approved model by. Default 0. */
  readonly approvalMargin?: number;
  readonly trainingImageTag?: string;
  readonly tgiImageTag?: string;
  readonly judgeModel?: string;
  readonly openAiBaseUrl?: string;
}

export interface TrainingPipelineProps extends TrainingJobSettings {
  readonly stage: string;
  readonly artifacts: s3.IBucket;
  readonly secrets: TwinSecrets;
  readonly alerts: sns.ITopic;
}

export const DEFAULT_TRAINING_IMAGE_TAG = '2.9.0-transformers5.3.0-gpu-py312-cu130-ubuntu22.04';
export const DEFAULT_TGI_IMAGE_TAG = '2.4.0-tgi3.0.1-gpu-py311-cu124-ubuntu22.04';

/**
 * Training and evaluation on SageMaker (SYSTEM.md §4-§5): the job code in the artifact bucket, a
 * least-privilege execution role for the jobs, the model package group, the training function (plan
 * and register) and the workflow of statemachines/training.asl.json.
 */
export class TrainingPipeline extends Construct {
  readonly role: iam.Role;
  readonly function: TwinFunction['function'];
  readonly stateMachine: sfn.StateMachine;
  readonly modelPackageGroupName: string;
  readonly trainingImage: string;

  constructor(scope: Construct, id: string, props: TrainingPipelineProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.trainingImage = dlcImage(
      this,
      TRAINING_REPOSITORY,
      props.trainingImageTag ?? DEFAULT_TRAINING_IMAGE_TAG,
    );
    const inferenceImage = dlcImage(this, TGI_REPOSITORY, props.tgiImageTag ?? DEFAULT_TGI_IMAGE_TAG);
    this.modelPackageGroupName = `llm-twin-${props.stage}`;
    const { artifacts } = props;

    const code = new s3deploy.BucketDeployment(this, 'Code', {
      sources: [
        s3deploy.Source.asset(SAGEMAKER_SOURCE, { exclude: ['tests', '**/__pycache__', '.pytest_cache'] }),
      ],
      destinationBucket: artifacts,
      destinationKeyPrefix: CODE_PREFIX,
      prune: true,
      memoryLimit: 256,
    });

    // The jobs' role: read their inputs, write models, checkpoints and metrics, pull the DLC image, log.
    this.role = sageMakerRole(this, 'JobRole', {
      description: 'LLM Twin SageMaker training and evaluation jobs',
      repository: TRAINING_REPOSITORY,
      logs: 'TrainingJobs',
    });
    artifacts.grantRead(this.role, `${CODE_PREFIX}*`);
    artifacts.grantRead(this.role, 'datasets/*');
    artifacts.grantReadWrite(this.role, 'models/*');
    artifacts.grantReadWrite(this.role, 'checkpoints/*');
    artifacts.grantPut(this.role, 'evaluations/*');
    props.secrets.grantRead(this.role, ['HF_TOKEN', 'OPENAI_API_KEY']);

    new sagemaker.CfnModelPackageGroup(this, 'ModelPackageGroup', {
      modelPackageGroupName: this.modelPackageGroupName,
      modelPackageGroupDescription:
        'LLM Twin models: each with its datasets, base model, hyperparameters and judge scores',
    });

    const maxRuntime = props.maxRuntime ?? Duration.hours(6);
    this.function = new TwinFunction(this, 'Training', {
      handlerName: 'training',
      description: 'Training workflow: plans the SageMaker jobs, registers and gates the evaluated model',
      timeout: Duration.minutes(2),
      memorySize: 512,
      environment: {
        ARTIFACT_BUCKET: artifacts.bucketName,
        TRAINING_IMAGE: this.trainingImage,
        INFERENCE_IMAGE: inferenceImage,
        TRAINING_ROLE_ARN: this.role.roleArn,
        TRAINING_CODE_S3_URI: `s3://${artifacts.bucketName}/${CODE_PREFIX}`,
        TRAINING_INSTANCE_TYPE: props.instanceType ?? 'ml.g5.2xlarge',
        EVALUATION_INSTANCE_TYPE: props.evaluationInstanceType ?? 'ml.g5.2xlarge',
        TRAINING_VOLUME_GB: String(props.volumeSizeGb ?? 100),
        TRAINING_MAX_RUNTIME_SECONDS: String(maxRuntime.toSeconds()),
        TRAINING_SPOT: String(props.spot ?? false),
        TRAINING_MAX_WAIT_SECONDS: String((props.maxWait ?? maxRuntime.plus(maxRuntime)).toSeconds()),
        MODEL_PACKAGE_GROUP: this.modelPackageGroupName,
        APPROVAL_MARGIN: String(props.approvalMargin ?? 0),
        JUDGE_MODEL: props.judgeModel ?? 'gpt-4o-mini',
        ...(props.openAiBaseUrl ? { OPENAI_BASE_URL: props.openAiBaseUrl } : {}),
        ...props.secrets.environmentFor(['HF_TOKEN', 'OPENAI_API_KEY']),
      },
    }).function;
    artifacts.grantRead(this.function, 'datasets/*');
    artifacts.grantRead(this.function, 'evaluations/*');
    const packages = [
      Arn.format(
        { service: 'sagemaker', resource: 'model-package-group', resourceName: this.modelPackageGroupName },
        stack,
      ),
      Arn.format(
        { service: 'sagemaker', resource: 'model-package', resourceName: `${this.modelPackageGroupName}/*` },
        stack,
      ),
    ];
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'sagemaker:CreateModelPackage',
          'sagemaker:UpdateModelPackage',
          'sagemaker:DescribeModelPackage',
        ],
        resources: packages,
      }),
    );
    grantUnscopedActions(this, 'ListModelPackages', this.function.role, {
      actions: ['sagemaker:ListModelPackages'],
      reason: 'ListModelPackages has no resource-level permission.',
    });

    const workflow = new Workflow(this, 'Workflow', {
      definitionFile: 'training.asl.json',
      comment: 'Training: SFT -> DPO -> LLM-judge evaluation -> registry -> gate -> notify',
      substitutions: {
        TrainingFunctionArn: this.function.functionArn,
        AlertsTopicArn: props.alerts.topicArn,
      },
      invokes: [this.function],
      timeout: Duration.hours(48),
    });
    this.stateMachine = workflow.stateMachine;
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'sagemaker:CreateTrainingJob',
          'sagemaker:DescribeTrainingJob',
          'sagemaker:StopTrainingJob',
          'sagemaker:AddTags',
        ],
        resources: [
          Arn.format({ service: 'sagemaker', resource: 'training-job', resourceName: 'twin-*' }, stack),
        ],
      }),
    );
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.role.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
    );
    allowSyncWaiting(this.stateMachine, 'StepFunctionsGetEventsForSageMakerTrainingJobsRule');
    props.alerts.grantPublish(this.stateMachine);

    suppressFunctionBaseline(this.function, [
      {
        id: 'AwsSolutions-IAM5',
        reason:
          'Reads datasets/ (to find the newest version) and evaluations/ (metrics) only; packages are numbered within their one group.',
        appliesTo: [
          ...S3_PREFIX_GRANT_ACTIONS,
          { regex: '/^Resource::.*Bucket.*Arn.*\\/(datasets|evaluations)\\/\\*$/' },
          { regex: '/^Resource::arn:<AWS::Partition>:sagemaker:.*:model-package\\/llm-twin-.*\\/\\*$/' },
        ],
      },
    ]);
    NagSuppressions.addResourceSuppressions(
      this.role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'Job objects live under fixed prefixes (training-code/, datasets/, models/, checkpoints/, evaluations/) named by job; log streams are per job.',
          appliesTo: [
            ...S3_PREFIX_GRANT_ACTIONS,
            {
              regex:
                '/^Resource::.*Bucket.*Arn.*\\/(training-code|datasets|models|checkpoints|evaluations)\\/\\*$/',
            },
            {
              regex:
                '/^Resource::arn:<AWS::Partition>:logs:.*\\/aws\\/sagemaker\\/(TrainingJobs|Endpoints)\\*$/',
            },
          ],
        },
      ],
      true,
    );
    NagSuppressions.addResourceSuppressions(
      this.stateMachine,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'Training jobs are created only under the twin-* name prefix the workflow uses; publishing to the encrypted alerts topic needs its key (GenerateDataKey*).',
          appliesTo: [
            { regex: '/^Resource::arn:<AWS::Partition>:sagemaker:.*:training-job\\/twin-\\*$/' },
            'Action::kms:GenerateDataKey*',
          ],
        },
      ],
      true,
    );
    suppressBucketDeployment(
      code,
      'CDK’s BucketDeployment handler reads the CDK asset and may write the artifact bucket: it copies the job code into training-code/ and prunes what is gone there.',
    );
  }
}
