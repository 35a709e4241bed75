import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { TWIN_VARIANT_NAME } from '../../lambdas/deployment/plan.js';
import { dlcImage, S3_PREFIX_GRANT_ACTIONS, sageMakerRole } from './sagemaker-access.js';
import { DEFAULT_TGI_IMAGE_TAG } from './training-pipeline.js';

/** What the endpoint serves: a model from the Hugging Face Hub, or a trained model.tar.gz. */
export type TwinModelSource = { hubModelId: string } | { modelS3Uri: string };

export interface EndpointScaling {
  /** Instances at the least and at the most. Defaults 1 and 6. */
  readonly minInstances?: number;
  readonly maxInstances?: number;
  /** Invocations per instance per minute the policy aims at. Default 5. */
  readonly targetInvocationsPerInstance?: number;
  readonly scaleInCooldown?: Duration;
  readonly scaleOutCooldown?: Duration;
}

export interface TwinEndpointProps {
  readonly stage: string;
  readonly model: TwinModelSource;
  /** The artifact bucket, read when the model comes from it. */
  readonly artifacts: s3.IBucket;
  /** Default ml.g5.2xlarge (one A10G, 24 GB). */
  readonly instanceType?: string;
  readonly scaling?: EndpointScaling;
  readonly tgiImageTag?: string;
}

const TGI_REPOSITORY = 'huggingface-pytorch-tgi-inference';
const DEFAULT_INSTANCE_TYPE = 'ml.g5.2xlarge';

/** TGI's settings for the twin on one A10G (SYSTEM.md §7). */
export const TGI_ENVIRONMENT = {
  SM_NUM_GPUS: '1',
  MAX_INPUT_LENGTH: '2048',
  MAX_TOTAL_TOKENS: '4096',
  MAX_BATCH_TOTAL_TOKENS: '4096',
  HF_MODEL_QUANTIZE: 'bitsandbytes',
};

/**
 * The twin on a SageMaker real-time endpoint with Hugging Face TGI, and autoscaling wired in: target
 * tracking on invocations per instance between the bounds (SYSTEM.md §7). Deleting the stack deletes
 * the endpoint, its configuration, the model and the scaling.
 */
export class TwinEndpoint extends Construct {
  readonly endpointName: string;
  /** The variant's instance type; deployments must keep it (see TWIN_VARIANT_NAME). */
  readonly instanceType: string;
  readonly endpoint: sagemaker.CfnEndpoint;
  readonly scalableTarget: appscaling.ScalableTarget;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: TwinEndpointProps) {
    super(scope, id);
    this.instanceType = props.instanceType ?? DEFAULT_INSTANCE_TYPE;
    const image = dlcImage(this, TGI_REPOSITORY, props.tgiImageTag ?? DEFAULT_TGI_IMAGE_TAG);
    this.endpointName = `llm-twin-${props.stage}`;

    this.role = sageMakerRole(this, 'Role', {
      description: 'LLM Twin endpoint: pull the TGI image, read the model, write logs and metrics',
      repository: TGI_REPOSITORY,
      logs: 'Endpoints',
    });
    // Trained models, now or from later deployments, are read from models/.
    props.artifacts.grantRead(this.role, 'models/*');

    const model = new sagemaker.CfnModel(this, 'Model', {
      executionRoleArn: this.role.roleArn,
      primaryContainer: {
        image,
        ...('modelS3Uri' in props.model ? { modelDataUrl: props.model.modelS3Uri } : {}),
        environment: {
          ...TGI_ENVIRONMENT,
          // A trained model is unpacked into /opt/ml/model; a Hub model is downloaded by its id.
          HF_MODEL_ID: 'modelS3Uri' in props.model ? '/opt/ml/model' : props.model.hubModelId,
        },
      },
    });
    model.node.addDependency(this.role);

    const config = new sagemaker.CfnEndpointConfig(this, 'Config', {
      productionVariants: [
        {
          variantName: TWIN_VARIANT_NAME,
          modelName: model.attrModelName,
          instanceType: this.instanceType,
          initialInstanceCount: props.scaling?.minInstances ?? 1,
          // Loading and quantising an 8B model takes minutes: give the container 15 to become healthy.
          containerStartupHealthCheckTimeoutInSeconds: 900,
          modelDataDownloadTimeoutInSeconds: 900,
        },
      ],
    });
    this.endpoint = new sagemaker.CfnEndpoint(this, 'Endpoint', {
      endpointName: this.endpointName,
      endpointConfigName: config.attrEndpointConfigName,
    });

    const scaling = props.scaling ?? {};
    this.scalableTarget = new appscaling.ScalableTarget(this, 'Scaling', {
      serviceNamespace: appscaling.ServiceNamespace.SAGEMAKER,
      resourceId: `endpoint/${this.endpointName}/variant/${TWIN_VARIANT_NAME}`,
      scalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      minCapacity: scaling.minInstances ?? 1,
      maxCapacity: scaling.maxInstances ?? 6,
    });
    this.scalableTarget.node.addDependency(this.endpoint);
    this.scalableTarget.scaleToTrackMetric('InvocationsPerInstance', {
      predefinedMetric: appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
      targetValue: scaling.targetInvocationsPerInstance ?? 5,
      scaleInCooldown: scaling.scaleInCooldown ?? Duration.seconds(200),
      scaleOutCooldown: scaling.scaleOutCooldown ?? Duration.seconds(200),
    });

    NagSuppressions.addResourceSuppressions(
      this.role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'ecr:GetAuthorizationToken has no resource; metrics are limited to SageMaker namespaces by condition; log streams are per endpoint; the model is read from models/ only.',
          appliesTo: [
            'Resource::*',
            {
              regex:
                '/^Resource::arn:<AWS::Partition>:logs:.*\\/aws\\/sagemaker\\/(TrainingJobs|Endpoints)\\*$/',
            },
            ...S3_PREFIX_GRANT_ACTIONS,
            { regex: '/^Resource::.*Bucket.*Arn.*\\/models\\/\\*$/' },
          ],
        },
      ],
      true,
    );
    NagSuppressions.addResourceSuppressions(config, [
      {
        id: 'AwsSolutions-SM2',
        reason:
          'GPU instances with local NVMe instance storage (ml.g5) do not accept a KMS key for the endpoint volume; the instance store is encrypted by the hardware.',
      },
    ]);
  }
}
