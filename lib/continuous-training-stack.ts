import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import { join } from 'node:path';
import { BUNDLED_AUTHOR_CONFIGS } from '../lambdas/collection/author-config.js';
import { AUTHOR_CONFIGS_PREFIX } from '../lambdas/workspace/author-links.js';
import { WORKFLOW_ITEMS_PREFIX } from '../lambdas/workflows/distributed-map.js';
import { bucketPrefixSuppression, suppressFunctionBaseline } from './constructs/function-suppressions.js';
import { TwinFunction } from './constructs/node-function.js';
import { allowSyncWaiting } from './constructs/sagemaker-access.js';
import { tagTwinResources } from './constructs/tags.js';
import { Workflow } from './constructs/workflow.js';

/** The deployment workflow's ARN in a stage that has none; the workflow then stops before deploying. */
export const NO_DEPLOYMENT_WORKFLOW = 'none';
const CT_RUNS = `${WORKFLOW_ITEMS_PREFIX}continuous-training/`;

export interface ContinuousTrainingStackProps extends StackProps {
  readonly stage: string;
  readonly alerts: sns.ITopic;
  /** The link lists saved from the web app (author-configs/) are collected too. */
  readonly artifacts: s3.IBucket;
  readonly workflows: {
    etl: sfn.IStateMachine;
    features: sfn.IStateMachine;
    datasets: sfn.IStateMachine;
    training: sfn.IStateMachine;
    /** Absent when the stage has no endpoint: approved models then wait in the registry. */
    deployment?: sfn.IStateMachine;
  };
  /** When to run; none: started by hand only. */
  readonly schedule?: events.Schedule;
  /** Authors collected at once (the stage config's workflows.concurrency.continuousTraining). */
  readonly concurrency?: number;
}

/**
 * The whole loop as one workflow (statemachines/continuous-training.asl.json): collection, features,
 * datasets, training and deployment as nested executions, each only when the previous one produced
 * something new; on a schedule (weekly by default), from the console, or from the CLI.
 */
export class ContinuousTrainingStack extends Stack {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: ContinuousTrainingStackProps) {
    super(scope, id, props);
    tagTwinResources(this, props.stage);
    const { workflows } = props;
    // The first step: the authors the run was started with, joined with the lists saved from the web app.
    const authors = new TwinFunction(this, 'Authors', {
      handlerName: 'ct-authors',
      description: 'Continuous training: the authors to collect, with the link lists saved from the web app',
      timeout: Duration.seconds(30),
      memorySize: 256,
      environment: { ARTIFACT_BUCKET: props.artifacts.bucketName },
      // Every author's links, read at run time: the schedule's input stays a few bytes however many
      // there are (EventBridge allows 8,192 characters).
      copyIntoBundle: [{ from: join('configs', 'authors'), to: BUNDLED_AUTHOR_CONFIGS }],
    }).function;
    props.artifacts.grantRead(authors, `${AUTHOR_CONFIGS_PREFIX}*`);
    // `gather` writes the authors' item file, `summarize` reads the Map's results.
    props.artifacts.grantReadWrite(authors, `${CT_RUNS}*`);
    suppressFunctionBaseline(authors, [
      {
        id: 'AwsSolutions-IAM5',
        reason: 'Reads objects under author-configs/ only (grantRead on that prefix).',
        appliesTo: [
          'Action::s3:GetBucket*',
          'Action::s3:GetObject*',
          'Action::s3:List*',
          { regex: '/^Resource::.*\\/author-configs\\/\\*$/' },
        ],
      },
      bucketPrefixSuppression(
        CT_RUNS,
        'Writes the authors item file and reads the Map results of its own workflow, under workflow-runs/continuous-training/ only.',
      ),
    ]);
    this.stateMachine = new Workflow(this, 'Workflow', {
      definitionFile: 'continuous-training.asl.json',
      comment:
        'Continuous training: ETL -> features -> datasets -> training -> deployment, each when something is new',
      substitutions: {
        EtlWorkflowArn: workflows.etl.stateMachineArn,
        FeatureWorkflowArn: workflows.features.stateMachineArn,
        DatasetWorkflowArn: workflows.datasets.stateMachineArn,
        TrainingWorkflowArn: workflows.training.stateMachineArn,
        // 'none' in a stage without an endpoint (CloudFormation's linter reads an empty value as missing).
        DeploymentWorkflowArn: workflows.deployment?.stateMachineArn ?? NO_DEPLOYMENT_WORKFLOW,
        AuthorsFunctionArn: authors.functionArn,
        AlertsTopicArn: props.alerts.topicArn,
      },
      invokes: [authors],
      timeout: Duration.days(3),
      mapBucket: props.artifacts,
      ...(props.concurrency ? { mapConcurrency: { CollectEachAuthor: props.concurrency } } : {}),
    }).stateMachine;
    for (const nested of [
      workflows.etl,
      workflows.features,
      workflows.datasets,
      workflows.training,
      workflows.deployment,
    ]) {
      if (!nested) continue;
      nested.grantStartExecution(this.stateMachine);
      nested.grantExecution(this.stateMachine, 'states:DescribeExecution', 'states:StopExecution');
    }
    allowSyncWaiting(this.stateMachine, 'StepFunctionsGetEventsForStepFunctionsExecutionRule');
    props.alerts.grantPublish(this.stateMachine);
    NagSuppressions.addResourceSuppressions(
      this.stateMachine,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'Waiting for a nested execution (.sync) means describing and, on a stop, stopping the executions of exactly the nested workflows; publishing to the encrypted alerts topic needs its key.',
          appliesTo: [
            { regex: '/^Resource::arn:<AWS::Partition>:states:.*:execution:.*:\\*$/' },
            'Action::kms:GenerateDataKey*',
          ],
        },
      ],
      true,
    );

    if (props.schedule) {
      new events.Rule(this, 'Schedule', {
        description: 'LLM Twin continuous training, over every author config',
        schedule: props.schedule,
        targets: [
          new targets.SfnStateMachine(this.stateMachine, {
            input: events.RuleTargetInput.fromObject({ configuredAuthors: true }),
          }),
        ],
      });
    }
    new CfnOutput(this, 'ContinuousTrainingWorkflowArn', {
      value: this.stateMachine.stateMachineArn,
      description:
        'Start by hand: {"configuredAuthors": true} for configs/authors as deployed (what the schedule sends), {"authors": [...]} for others; the lists saved from the web app are always added',
    });
  }
}
