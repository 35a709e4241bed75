#!/usr/bin/env node
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FeatureStack } from '../lib/feature-stack.js';
import { FoundationStack } from '../lib/foundation-stack.js';

const app = new App();
const stage = (app.node.tryGetContext('stage') as string | undefined) ?? 'dev';

const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
const embeddingModelId = app.node.tryGetContext('embeddingModelId') as string | undefined;

const foundation = new FoundationStack(app, `LlmTwin-${stage}-Foundation`, {
  stage,
  // Account and region come from the deploying credentials; synth needs neither.
  env,
  description: 'LLM Twin foundation: artifact store and secrets',
});

new FeatureStack(app, `LlmTwin-${stage}-Features`, {
  stage,
  env,
  secrets: foundation.secrets,
  ...(embeddingModelId ? { embeddingModelId } : {}),
  description: 'LLM Twin feature pipeline: features function (ONNX) and workflow',
});

// Every stack is checked against the AWS Solutions rules; unsuppressed findings fail synth.
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
