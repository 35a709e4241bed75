#!/usr/bin/env node
import { App, Aspects, RemovalPolicy } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Schedule } from 'aws-cdk-lib/aws-events';
import { readAuthorConfigs } from '../lambdas/collection/author-config.js';
import { CollectionStack } from '../lib/collection-stack.js';
import { ContinuousTrainingStack } from '../lib/continuous-training-stack.js';
import { DatasetStack } from '../lib/dataset-stack.js';
import { EndpointStack } from '../lib/endpoint-stack.js';
import { FeatureStack } from '../lib/feature-stack.js';
import { FoundationStack } from '../lib/foundation-stack.js';
import { GitHubDeployStack } from '../lib/github-deploy-stack.js';
import { LOG_EXECUTION_DATA_CONTEXT } from '../lib/constructs/workflow.js';
import { readStageConfig } from '../lib/stage-config.js';
import { RagStack } from '../lib/rag-stack.js';
import { TrainingStack } from '../lib/training-stack.js';
import { WebStack } from '../lib/web-stack.js';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const app = new App();
const stage = (app.node.tryGetContext('stage') as string | undefined) ?? 'dev';

const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
const embeddingModelId = app.node.tryGetContext('embeddingModelId') as string | undefined;
const context = (name: string) => app.node.tryGetContext(name) as string | undefined;
const alertEmail = context('alertEmail');
// The stage's settings (configs/stages/<stage>.yaml); -c values on the command line win.
const stageConfig = await readStageConfig(join(REPO_ROOT, 'configs'), stage);
app.node.setContext(LOG_EXECUTION_DATA_CONTEXT, stageConfig.workflows.logExecutionData);

const foundation = new FoundationStack(app, `LlmTwin-${stage}-Foundation`, {
  stage,
  // Account and region come from the deploying credentials; synth needs neither.
  env,
  ...(alertEmail ? { alertEmail } : {}),
  keepData: stageConfig.keepData,
  description: 'LLM Twin foundation: artifact store, secrets and alerts',
});

const features = new FeatureStack(app, `LlmTwin-${stage}-Features`, {
  stage,
  env,
  secrets: foundation.secrets,
  artifacts: foundation.artifacts.bucket,
  concurrency: stageConfig.workflows.concurrency.features,
  ...(embeddingModelId ? { embeddingModelId } : {}),
  description: 'LLM Twin feature pipeline: features function (ONNX) and workflow',
});

const openAiBaseUrl = app.node.tryGetContext('openAiBaseUrl') as string | undefined;
const datasets = new DatasetStack(app, `LlmTwin-${stage}-Datasets`, {
  stage,
  env,
  artifacts: foundation.artifacts.bucket,
  secrets: foundation.secrets,
  concurrency: stageConfig.workflows.concurrency.datasets,
  ...(openAiBaseUrl ? { openAiBaseUrl } : {}),
  description: 'LLM Twin dataset generation: datasets function and workflow',
});

// The continuous-training workflow collects every author weekly (Mondays 03:00 UTC) by default, so the
// per-author ETL schedules are off unless asked for (`-c etlSchedule="rate(1 day)"`).
const ctSchedule = context('ctSchedule') ?? stageConfig.continuousTraining.schedule;
const etlSchedule = context('etlSchedule') ?? 'off';
const authors = (await readAuthorConfigs(join(REPO_ROOT, 'configs', 'authors'))).map(({ file, config }) => ({
  name: basename(file).replace(/\.ya?ml$/u, ''),
  config,
}));

const collection = new CollectionStack(app, `LlmTwin-${stage}-Collection`, {
  stage,
  env,
  secrets: foundation.secrets,
  featureWorkflow: features.pipeline.stateMachine,
  artifacts: foundation.artifacts.bucket,
  authors,
  concurrency: stageConfig.workflows.concurrency.etl,
  ...(etlSchedule === 'off' ? {} : { schedule: Schedule.expression(etlSchedule) }),
  description: 'LLM Twin data collection: crawl function, ETL workflow, weekly schedule per author',
});

// Training on SageMaker: `-c trainingInstanceType=ml.g5.12xlarge`, `-c trainingSpot=true` (managed spot
// with checkpoints), `-c approvalMargin=0.05`.
const trainingInstanceType = context('trainingInstanceType');
const approvalMargin = context('approvalMargin');
const training = new TrainingStack(app, `LlmTwin-${stage}-Training`, {
  stage,
  env,
  artifacts: foundation.artifacts.bucket,
  secrets: foundation.secrets,
  alerts: foundation.alerts.topic,
  instanceType: trainingInstanceType ?? stageConfig.training.instanceType,
  spot:
    context('trainingSpot') === undefined ? stageConfig.training.spot : context('trainingSpot') === 'true',
  approvalMargin: approvalMargin === undefined ? stageConfig.training.approvalMargin : Number(approvalMargin),
  ...(openAiBaseUrl ? { openAiBaseUrl } : {}),
  description:
    'LLM Twin training: SageMaker SFT, DPO and LLM-judge evaluation, model registry, gated workflow',
});

// The twin on a SageMaker TGI endpoint, autoscaled: `-c twinHubModel=<hub id>` or
// `-c twinModelS3Uri=s3://<artifacts>/models/<job>/output/model.tar.gz` (a trained model).
// Stages with `endpoint.deploy` get one from their config.
const twinHubModel =
  context('twinHubModel') ?? (stageConfig.endpoint.deploy ? stageConfig.endpoint.hubModelId : undefined);
const twinModelS3Uri = context('twinModelS3Uri');
const endpoint =
  twinHubModel || twinModelS3Uri
    ? new EndpointStack(app, `LlmTwin-${stage}-Endpoint`, {
        stage,
        env,
        artifacts: foundation.artifacts.bucket,
        alerts: foundation.alerts.topic,
        model: twinModelS3Uri ? { modelS3Uri: twinModelS3Uri } : { hubModelId: twinHubModel ?? '' },
        instanceType: stageConfig.endpoint.instanceType,
        scaling: {
          minInstances: stageConfig.endpoint.minInstances,
          maxInstances: stageConfig.endpoint.maxInstances,
          targetInvocationsPerInstance: stageConfig.endpoint.targetInvocationsPerInstance,
        },
        description: 'LLM Twin endpoint: the twin on SageMaker with Hugging Face TGI, autoscaled',
      })
    : undefined;

// The twin's API. It answers with the endpoint above, or `-c twinEndpoint=<name>` (with
// `-c twinInferenceComponent=<name>` when it hosts the twin as one); without either an
// OpenAI-compatible model stands in (`-c twinModel=...`). `-c ragAuth=iam` switches API keys for IAM,
// `-c corsOrigins=https://a,https://b` allows browsers, `-c opik=true` sends traces to Opik.
const twinEndpoint = context('twinEndpoint') ?? endpoint?.twin.endpointName;
// An endpoint that scales to zero hosts the twin as an inference component; requests must name it.
const twinComponent = context('twinEndpoint')
  ? context('twinInferenceComponent')
  : endpoint?.twin.hosting.kind === 'inference-component'
    ? endpoint.twin.hosting.inferenceComponentName
    : undefined;
const twinModel = context('twinModel');
const corsOrigins = context('corsOrigins')
  ?.split(',')
  .map((origin) => origin.trim())
  .filter(Boolean);
const rag = new RagStack(app, `LlmTwin-${stage}-Rag`, {
  stage,
  env,
  secrets: foundation.secrets,
  alerts: foundation.alerts.topic,
  generator: twinEndpoint
    ? {
        kind: 'sagemaker',
        endpointName: twinEndpoint,
        ...(twinComponent ? { inferenceComponentName: twinComponent } : {}),
      }
    : { kind: 'openai', ...(twinModel ? { model: twinModel } : {}) },
  // `-c auth=cognito`: people sign in to the web app (a user pool); `-c ragAuth=iam`: SigV4 callers.
  auth: context('auth') === 'cognito' ? 'cognito' : context('ragAuth') === 'iam' ? 'iam' : 'api-key',
  throttle: { rateLimit: stageConfig.rag.rateLimit, burstLimit: stageConfig.rag.burstLimit },
  dailyQuota: stageConfig.rag.dailyQuota,
  conversations: {
    ...stageConfig.rag.conversations,
    removalPolicy: stageConfig.keepData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  },
  ...(stageConfig.rag.reservedConcurrency === undefined
    ? {}
    : { reservedConcurrency: stageConfig.rag.reservedConcurrency }),
  ...(stageConfig.rag.rerankPrecision ? { rerankPrecision: stageConfig.rag.rerankPrecision } : {}),
  ...(corsOrigins?.length ? { corsOrigins } : {}),
  ...(openAiBaseUrl ? { openAiBaseUrl } : {}),
  ...(embeddingModelId ? { embeddingModelId } : {}),
  ...(context('opik') === 'true'
    ? { opik: { ...(context('opikWorkspace') ? { workspace: context('opikWorkspace') } : {}) } }
    : {}),
  // The web app's routes: link lists in the artifact bucket, collection runs as ETL executions.
  workspace: { artifacts: foundation.artifacts.bucket, etlWorkflow: collection.pipeline.stateMachine },
  description: 'LLM Twin inference: the twin API (API Gateway + RAG function), alarms and dashboard',
});

new WebStack(app, `LlmTwin-${stage}-Web`, {
  stage,
  env,
  api: rag.rag.api,
  ...(rag.rag.users ? { users: rag.rag.users } : {}),
  uploads: foundation.artifacts.bucket,
  keepData: stageConfig.keepData,
  description: 'LLM Twin web app: S3 + CloudFront, the twin API on the same origin',
});

// `-c ctSchedule="rate(14 days)"` changes when it runs, "off" leaves it to the console and CLI.
new ContinuousTrainingStack(app, `LlmTwin-${stage}-ContinuousTraining`, {
  stage,
  env,
  alerts: foundation.alerts.topic,
  artifacts: foundation.artifacts.bucket,
  workflows: {
    etl: collection.pipeline.stateMachine,
    features: features.pipeline.stateMachine,
    datasets: datasets.pipeline.stateMachine,
    training: training.pipeline.stateMachine,
    ...(endpoint ? { deployment: endpoint.deployment.stateMachine } : {}),
  },
  concurrency: stageConfig.workflows.concurrency.continuousTraining,
  ...(ctSchedule === 'off' ? {} : { schedule: Schedule.expression(ctSchedule) }),
  description: 'LLM Twin continuous training: the whole loop as one scheduled workflow',
});

// Deployment from GitHub Actions with short-lived credentials, set up once per account by an admin:
// `npx cdk deploy LlmTwin-GitHubDeploy -c githubRepository=owner/name` (-c githubOidcProviderArn=... when
// the account already has GitHub's OIDC provider).
const githubRepository = context('githubRepository');
if (githubRepository) {
  const oidcProviderArn = context('githubOidcProviderArn');
  new GitHubDeployStack(app, 'LlmTwin-GitHubDeploy', {
    env,
    repository: githubRepository,
    ...(oidcProviderArn ? { oidcProviderArn } : {}),
    description: 'LLM Twin: the role GitHub Actions assumes (OIDC) to run cdk deploy',
  });
}

// Every stack is checked against the AWS Solutions rules; unsuppressed findings fail synth.
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
