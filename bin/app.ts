#!/usr/bin/env node
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FoundationStack } from '../lib/foundation-stack.js';

const app = new App();
const stage = (app.node.tryGetContext('stage') as string | undefined) ?? 'dev';

new FoundationStack(app, `LlmTwin-${stage}-Foundation`, {
  stage,
  // Account and region come from the deploying credentials; synth needs neither.
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'LLM Twin foundation: artifact store and secrets',
});

// Every stack is checked against the AWS Solutions rules; unsuppressed findings fail synth.
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
