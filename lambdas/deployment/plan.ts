import type { RegisteredModel } from '../ports/model-registry.js';

/**
 * The endpoint's one production variant. Every deployment keeps its name and instance type and changes
 * only its model: the one update SageMaker allows while the variant is an autoscaling target (changing
 * the instance type or removing the variant would need the scaling deregistered first).
 */
export const TWIN_VARIANT_NAME = 'AllTraffic';

/** Loading and quantising an 8B model takes minutes: the container gets 15 to download and become healthy. */
export const TWIN_STARTUP_SECONDS = 900;

/**
 * What one copy of the twin reserves on an instance when it is hosted as an inference component: the
 * one GPU TGI shards over (SM_NUM_GPUS=1) and enough host memory to load the weights before they move
 * to the GPU. The endpoint stack and every deployment use the same numbers.
 */
export const TWIN_COPY_RESOURCES = { acceleratorDevices: 1, memoryMb: 8192 } as const;

/**
 * How the endpoint hosts the twin. `variant`: the model sits on the production variant, which scales
 * between 1 and n instances. `inference-component`: the model is an inference component whose copies
 * scale between 0 and n, and the instances follow them (scale to zero when idle).
 */
export type TwinHosting =
  | { kind: 'variant'; instanceType: string; minInstances: number }
  | { kind: 'inference-component'; inferenceComponentName: string };

export interface DeploymentConfig {
  stage: string;
  endpointName: string;
  roleArn: string;
  hosting: TwinHosting;
  /** CloudWatch alarms that roll a deployment back while the new model takes traffic. */
  rollbackAlarms: string[];
  /** TGI settings for the container. */
  environment: Record<string, string>;
  /** How long the new model is watched by the alarms before the rollout counts as done. */
  bakeSeconds: number;
}

interface PlanBase {
  modelPackageArn: string;
  modelName: string;
  endpointName: string;
  /**
   * What SageMaker reports as served once this deployment has landed: the endpoint configuration's
   * name (variant hosting) or the inference component's model name. Anything else after the update
   * means SageMaker rolled it back.
   */
  serves: string;
  /** What served before, to go back to when the smoke test fails; null for a brand-new endpoint. */
  previous: string | null;
  createModel: Record<string, unknown>;
}

export interface VariantDeploymentPlan extends PlanBase {
  hosting: 'variant';
  endpointConfigName: string;
  endpointExists: boolean;
  createEndpointConfig: Record<string, unknown>;
  /** Blue/green with automatic rollback on the alarms (UpdateEndpoint's DeploymentConfig). */
  deploymentConfig: Record<string, unknown>;
}

export interface ComponentDeploymentPlan extends PlanBase {
  hosting: 'inference-component';
  inferenceComponentName: string;
  /** The component's new specification (UpdateInferenceComponent), and the one to go back to. */
  specification: Record<string, unknown>;
  previousSpecification: Record<string, unknown>;
  /** A rolling update, one copy at a time, with automatic rollback on the alarms. */
  deploymentConfig: Record<string, unknown>;
}

export type DeploymentPlan = VariantDeploymentPlan | ComponentDeploymentPlan;

/** Names unique per deployment and within SageMaker's 63 characters. */
function resourceName(stage: string, version: number, deploymentId: string): string {
  const id = deploymentId.replace(/[^A-Za-z0-9]/gu, '').slice(-12) || 'x';
  return `twin-${stage}-v${String(version)}-${id}`.slice(0, 63);
}

/** An inference component's specification: the model, its startup limits and what one copy reserves. */
function componentSpecification(modelName: string): Record<string, unknown> {
  return {
    ModelName: modelName,
    StartupParameters: {
      ContainerStartupHealthCheckTimeoutInSeconds: TWIN_STARTUP_SECONDS,
      ModelDataDownloadTimeoutInSeconds: TWIN_STARTUP_SECONDS,
    },
    ComputeResourceRequirements: {
      NumberOfAcceleratorDevicesRequired: TWIN_COPY_RESOURCES.acceleratorDevices,
      MinMemoryRequiredInMb: TWIN_COPY_RESOURCES.memoryMb,
    },
  };
}

/**
 * The SageMaker requests that put an approved model package on the endpoint: a model (the package's
 * container and artifact with the TGI settings), then either an endpoint configuration and a blue/green
 * update, or a rolling update of the inference component. Both are rolled back by SageMaker itself if a
 * rollback alarm fires while the new model bakes.
 *
 * `current` is what serves now (see PlanBase.serves), or undefined when nothing does yet.
 */
export function planDeployment(
  config: DeploymentConfig,
  model: RegisteredModel & { image: string },
  deploymentId: string,
  current: string | undefined,
): DeploymentPlan {
  if (model.status !== 'Approved') {
    throw new Error(`model package ${model.arn} is ${model.status}; only approved models are deployed`);
  }
  if (!model.modelS3Uri) throw new Error(`model package ${model.arn} names no model artifact`);
  const name = resourceName(config.stage, model.version, deploymentId);
  const rollbackAlarms = { Alarms: config.rollbackAlarms.map((AlarmName) => ({ AlarmName })) };
  const base = {
    modelPackageArn: model.arn,
    modelName: name,
    endpointName: config.endpointName,
    previous: current ?? null,
    createModel: {
      ModelName: name,
      ExecutionRoleArn: config.roleArn,
      PrimaryContainer: {
        Image: model.image,
        ModelDataUrl: model.modelS3Uri,
        Environment: { ...config.environment, HF_MODEL_ID: '/opt/ml/model' },
      },
      Tags: [
        { Key: 'project', Value: 'llm-twin' },
        { Key: 'model-package', Value: model.arn.slice(-256) },
      ],
    },
  };

  const { hosting } = config;
  if (hosting.kind === 'inference-component') {
    if (current === undefined) {
      throw new Error(
        `inference component ${hosting.inferenceComponentName} does not exist; deploy the Endpoint stack first`,
      );
    }
    return {
      ...base,
      hosting: 'inference-component',
      serves: name,
      inferenceComponentName: hosting.inferenceComponentName,
      specification: componentSpecification(name),
      previousSpecification: componentSpecification(current),
      deploymentConfig: {
        RollingUpdatePolicy: {
          MaximumBatchSize: { Type: 'COPY_COUNT', Value: 1 },
          RollbackMaximumBatchSize: { Type: 'COPY_COUNT', Value: 1 },
          WaitIntervalInSeconds: Math.min(config.bakeSeconds, 3600),
          MaximumExecutionTimeoutInSeconds: 3600 + Math.min(config.bakeSeconds, 3600),
        },
        AutoRollbackConfiguration: rollbackAlarms,
      },
    };
  }
  return {
    ...base,
    hosting: 'variant',
    serves: name,
    endpointConfigName: name,
    endpointExists: current !== undefined,
    createEndpointConfig: {
      EndpointConfigName: name,
      ProductionVariants: [
        {
          VariantName: TWIN_VARIANT_NAME,
          ModelName: name,
          InstanceType: hosting.instanceType,
          InitialInstanceCount: hosting.minInstances,
          ContainerStartupHealthCheckTimeoutInSeconds: TWIN_STARTUP_SECONDS,
          ModelDataDownloadTimeoutInSeconds: TWIN_STARTUP_SECONDS,
        },
      ],
      Tags: [{ Key: 'project', Value: 'llm-twin' }],
    },
    deploymentConfig: {
      BlueGreenUpdatePolicy: {
        TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 },
        TerminationWaitInSeconds: config.bakeSeconds,
        MaximumExecutionTimeoutInSeconds: 3600 + config.bakeSeconds,
      },
      AutoRollbackConfiguration: rollbackAlarms,
    },
  };
}
