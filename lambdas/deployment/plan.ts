import type { RegisteredModel } from '../ports/model-registry.js';

/**
 * The endpoint's one production variant. Every deployment keeps its name and instance type and changes
 * only its model: the one update SageMaker allows while the variant is an autoscaling target (changing
 * the instance type or removing the variant would need the scaling deregistered first).
 */
export const TWIN_VARIANT_NAME = 'AllTraffic';

export interface DeploymentConfig {
  stage: string;
  endpointName: string;
  roleArn: string;
  instanceType: string;
  minInstances: number;
  /** CloudWatch alarms that roll a deployment back while its new fleet takes traffic. */
  rollbackAlarms: string[];
  /** TGI settings for the container. */
  environment: Record<string, string>;
  /** How long the new fleet is watched before the old one is terminated. */
  bakeSeconds: number;
}

export interface DeploymentPlan {
  modelPackageArn: string;
  modelName: string;
  endpointConfigName: string;
  endpointName: string;
  endpointExists: boolean;
  previousEndpointConfigName: string | null;
  createModel: Record<string, unknown>;
  createEndpointConfig: Record<string, unknown>;
  /** Blue/green with automatic rollback on the alarms (UpdateEndpoint's DeploymentConfig). */
  deploymentConfig: Record<string, unknown>;
}

/** Names unique per deployment and within SageMaker's 63 characters. */
function resourceName(stage: string, version: number, deploymentId: string): string {
  const id = deploymentId.replace(/[^A-Za-z0-9]/gu, '').slice(-12) || 'x';
  return `twin-${stage}-v${String(version)}-${id}`.slice(0, 63);
}

/**
 * The SageMaker requests that put an approved model package on the endpoint: a model (the package's
 * container and artifact with the TGI settings), an endpoint configuration, and a blue/green update
 * that SageMaker rolls back by itself if a rollback alarm fires while the new fleet bakes.
 */
export function planDeployment(
  config: DeploymentConfig,
  model: RegisteredModel & { image: string },
  deploymentId: string,
  currentEndpointConfig: string | undefined,
): DeploymentPlan {
  if (model.status !== 'Approved') {
    throw new Error(`model package ${model.arn} is ${model.status}; only approved models are deployed`);
  }
  if (!model.modelS3Uri) throw new Error(`model package ${model.arn} names no model artifact`);
  const name = resourceName(config.stage, model.version, deploymentId);
  return {
    modelPackageArn: model.arn,
    modelName: name,
    endpointConfigName: name,
    endpointName: config.endpointName,
    endpointExists: currentEndpointConfig !== undefined,
    previousEndpointConfigName: currentEndpointConfig ?? null,
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
    createEndpointConfig: {
      EndpointConfigName: name,
      ProductionVariants: [
        {
          VariantName: TWIN_VARIANT_NAME,
          ModelName: name,
          InstanceType: config.instanceType,
          InitialInstanceCount: config.minInstances,
          ContainerStartupHealthCheckTimeoutInSeconds: 900,
          ModelDataDownloadTimeoutInSeconds: 900,
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
      AutoRollbackConfiguration: { Alarms: config.rollbackAlarms.map((AlarmName) => ({ AlarmName })) },
    },
  };
}
