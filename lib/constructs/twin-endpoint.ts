import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import {
  TWIN_COPY_RESOURCES,
  TWIN_STARTUP_SECONDS,
  TWIN_VARIANT_NAME,
  type TwinHosting,
} from '../../lambdas/deployment/plan.js';
import { dlcImage, S3_PREFIX_GRANT_ACTIONS, sageMakerRole } from './sagemaker-access.js';
import { DEFAULT_TGI_IMAGE_TAG } from './training-pipeline.js';

/** What the endpoint serves: a model from the Hugging Face Hub, or a trained model.tar.gz. */
export type TwinModelSource = { hubModelId: string } | { modelS3Uri: string };

export interface EndpointScaling {
  /**
   * Instances (copies of the twin) at the least and at the most. Defaults 1 and 6. A minimum of 0 hosts
   * the twin as an inference component that scales to zero when idle and wakes on the first request.
   */
  readonly minInstances?: number;
  readonly maxInstances?: number;
  /** Invocations per instance (or copy) per minute the policy aims at. Default 5. */
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
 * tracking on invocations per instance between the bounds (SYSTEM.md §7). With a minimum of 0 the twin
 * is an inference component instead: its copies, and the instances under them, scale to zero when idle,
 * and a request that finds none wakes it. Deleting the stack deletes the endpoint, its configuration,
 * the model and the scaling.
 */
export class TwinEndpoint extends Construct {
  readonly endpointName: string;
  /** The variant's instance type; deployments must keep it (see TWIN_VARIANT_NAME). */
  readonly instanceType: string;
  /** How the twin is hosted, as the deployment workflow needs to know it. */
  readonly hosting: TwinHosting;
  /** The dimensions SageMaker publishes the twin's invocation metrics (errors, latency) under. */
  readonly invocationDimensions: Record<string, string>;
  readonly endpoint: sagemaker.CfnEndpoint;
  readonly scalableTarget: appscaling.ScalableTarget;
  readonly role: iam.Role;
  /** Set when the twin scales to zero: the alarm whose first request without capacity wakes it. */
  readonly wakeUpAlarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: TwinEndpointProps) {
    super(scope, id);
    this.instanceType = props.instanceType ?? DEFAULT_INSTANCE_TYPE;
    const image = dlcImage(this, TGI_REPOSITORY, props.tgiImageTag ?? DEFAULT_TGI_IMAGE_TAG);
    this.endpointName = `llm-twin-${props.stage}`;
    const scaling = props.scaling ?? {};
    const minInstances = scaling.minInstances ?? 1;
    const maxInstances = scaling.maxInstances ?? 6;
    if (maxInstances < Math.max(minInstances, 1)) {
      throw new Error(`maxInstances (${String(maxInstances)}) must be at least 1 and at least minInstances`);
    }

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

    const hosted =
      minInstances === 0
        ? this.hostAsInferenceComponent(model, maxInstances)
        : this.hostOnVariant(model, minInstances, maxInstances);
    this.endpoint = hosted.endpoint;
    this.hosting = hosted.hosting;
    this.invocationDimensions = hosted.invocationDimensions;
    this.scalableTarget = hosted.scalableTarget;
    this.scalableTarget.scaleToTrackMetric('InvocationsPerInstance', {
      predefinedMetric:
        this.hosting.kind === 'variant'
          ? appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE
          : appscaling.PredefinedMetric.SAGEMAKER_INFERENCE_COMPONENT_INVOCATIONS_PER_COPY,
      targetValue: scaling.targetInvocationsPerInstance ?? 5,
      scaleInCooldown: scaling.scaleInCooldown ?? Duration.seconds(200),
      scaleOutCooldown: scaling.scaleOutCooldown ?? Duration.seconds(200),
    });
    if (this.hosting.kind === 'inference-component') {
      this.wakeUpAlarm = this.wakeOnFirstRequest(this.hosting.inferenceComponentName);
    }

    NagSuppressions.addResourceSuppressions(
      this.role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason: 'Log streams are per endpoint; the model is read from models/ only.',
          appliesTo: [
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
    NagSuppressions.addResourceSuppressions(hosted.config, [
      {
        id: 'AwsSolutions-SM2',
        reason:
          'GPU instances with local NVMe instance storage (ml.g5) do not accept a KMS key for the endpoint volume; the instance store is encrypted by the hardware.',
      },
    ]);
  }

  /** The model on the variant itself; the variant scales between min and max instances (never 0). */
  private hostOnVariant(model: sagemaker.CfnModel, minInstances: number, maxInstances: number): Hosted {
    const config = new sagemaker.CfnEndpointConfig(this, 'Config', {
      productionVariants: [
        {
          variantName: TWIN_VARIANT_NAME,
          modelName: model.attrModelName,
          instanceType: this.instanceType,
          initialInstanceCount: minInstances,
          containerStartupHealthCheckTimeoutInSeconds: TWIN_STARTUP_SECONDS,
          modelDataDownloadTimeoutInSeconds: TWIN_STARTUP_SECONDS,
        },
      ],
    });
    const endpoint = new sagemaker.CfnEndpoint(this, 'Endpoint', {
      endpointName: this.endpointName,
      endpointConfigName: config.attrEndpointConfigName,
    });
    const scalableTarget = new appscaling.ScalableTarget(this, 'Scaling', {
      serviceNamespace: appscaling.ServiceNamespace.SAGEMAKER,
      resourceId: `endpoint/${this.endpointName}/variant/${TWIN_VARIANT_NAME}`,
      scalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      minCapacity: minInstances,
      maxCapacity: maxInstances,
    });
    scalableTarget.node.addDependency(endpoint);
    return {
      config,
      endpoint,
      scalableTarget,
      hosting: { kind: 'variant', instanceType: this.instanceType, minInstances },
      invocationDimensions: { EndpointName: this.endpointName, VariantName: TWIN_VARIANT_NAME },
    };
  }

  /**
   * The model as an inference component: SageMaker adds and removes instances as the component's copies
   * come and go (managed instance scaling down to 0), and the copies scale between 0 and max.
   */
  private hostAsInferenceComponent(model: sagemaker.CfnModel, maxInstances: number): Hosted {
    const inferenceComponentName = `${this.endpointName}-twin`;
    const config = new sagemaker.CfnEndpointConfig(this, 'Config', {
      // Components are started by SageMaker on the endpoint's behalf: the endpoint needs a role.
      executionRoleArn: this.role.roleArn,
      productionVariants: [
        {
          variantName: TWIN_VARIANT_NAME,
          instanceType: this.instanceType,
          initialInstanceCount: 1,
          managedInstanceScaling: { status: 'ENABLED', minInstanceCount: 0, maxInstanceCount: maxInstances },
          routingConfig: { routingStrategy: 'LEAST_OUTSTANDING_REQUESTS' },
        },
      ],
    });
    config.node.addDependency(this.role);
    const endpoint = new sagemaker.CfnEndpoint(this, 'Endpoint', {
      endpointName: this.endpointName,
      endpointConfigName: config.attrEndpointConfigName,
    });
    const component = new sagemaker.CfnInferenceComponent(this, 'Component', {
      inferenceComponentName,
      endpointName: endpoint.attrEndpointName,
      variantName: TWIN_VARIANT_NAME,
      specification: {
        modelName: model.attrModelName,
        startupParameters: {
          containerStartupHealthCheckTimeoutInSeconds: TWIN_STARTUP_SECONDS,
          modelDataDownloadTimeoutInSeconds: TWIN_STARTUP_SECONDS,
        },
        computeResourceRequirements: {
          numberOfAcceleratorDevicesRequired: TWIN_COPY_RESOURCES.acceleratorDevices,
          minMemoryRequiredInMb: TWIN_COPY_RESOURCES.memoryMb,
        },
      },
      runtimeConfig: { copyCount: 1 },
    });
    const scalableTarget = new appscaling.ScalableTarget(this, 'Scaling', {
      serviceNamespace: appscaling.ServiceNamespace.SAGEMAKER,
      resourceId: `inference-component/${inferenceComponentName}`,
      scalableDimension: 'sagemaker:inference-component:DesiredCopyCount',
      minCapacity: 0,
      maxCapacity: maxInstances,
    });
    scalableTarget.node.addDependency(component);
    return {
      config,
      endpoint,
      scalableTarget,
      hosting: { kind: 'inference-component', inferenceComponentName },
      invocationDimensions: { InferenceComponentName: inferenceComponentName },
    };
  }

  /**
   * Target tracking cannot leave zero copies (it divides by them), so a step policy does: a request that
   * finds no copy is counted in NoCapacityInvocationFailures, the alarm fires and one copy is added. The
   * cooldown covers a cold start, so the requests failing meanwhile do not add more.
   */
  private wakeOnFirstRequest(inferenceComponentName: string): cloudwatch.Alarm {
    const wakeUp = new appscaling.StepScalingAction(this, 'WakeUp', {
      scalingTarget: this.scalableTarget,
      adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      metricAggregationType: appscaling.MetricAggregationType.MAXIMUM,
      cooldown: Duration.minutes(5),
    });
    wakeUp.addAdjustment({ adjustment: 1, lowerBound: 0 });
    const alarm = new cloudwatch.Metric({
      namespace: 'AWS/SageMaker',
      metricName: 'NoCapacityInvocationFailures',
      dimensionsMap: { InferenceComponentName: inferenceComponentName },
      statistic: 'Sum',
      period: Duration.minutes(1),
    }).createAlarm(this, 'WakeUpAlarm', {
      alarmName: `${this.endpointName}-wake-up`,
      alarmDescription: 'A request found the twin scaled to zero: add one copy.',
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new cloudwatchActions.ApplicationScalingAction(wakeUp));
    return alarm;
  }
}

interface Hosted {
  config: sagemaker.CfnEndpointConfig;
  endpoint: sagemaker.CfnEndpoint;
  scalableTarget: appscaling.ScalableTarget;
  hosting: TwinHosting;
  invocationDimensions: Record<string, string>;
}
