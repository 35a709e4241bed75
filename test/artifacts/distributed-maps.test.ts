import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readStageConfig, type StageConfig } from '../../lib/stage-config.js';
import {
  cloudAssembly,
  STAGES,
  stackTemplates,
  synthesizedStateMachines,
  type AslDefinition,
  type AslState,
} from '../support/cloud-assembly.js';
import { REPO_ROOT } from '../support/environment.js';

/**
 * Every fan-out of the deployed workflows is a Distributed Map whose items and results live in S3:
 * no Map reads its items from the state's payload (Step Functions caps it at 256 KiB), each writes its
 * children's results to the bucket, runs at the stage config's concurrency, and its state machine may
 * start its own child executions. Express children fit Express's 5 minutes, retries included.
 */

interface MapState extends AslState {
  ItemsPath?: string;
  ItemReader?: {
    Resource?: string;
    ReaderConfig?: { InputType?: string };
    Parameters?: Record<string, unknown>;
  };
  ResultWriter?: { Resource?: string; Parameters?: { Bucket?: string; Prefix?: string } };
  ItemProcessor?: AslDefinition & { ProcessorConfig?: { Mode?: string; ExecutionType?: string } };
  ToleratedFailurePercentage?: number;
}

interface TimedTask extends AslState {
  TimeoutSeconds?: number;
  Retry?: { ErrorEquals: string[]; MaxAttempts?: number; IntervalSeconds?: number; BackoffRate?: number }[];
}

/** The stage config's concurrency setting of each fan-out, by Map state name. */
const CONCURRENCY_OF: Record<string, keyof StageConfig['workflows']['concurrency']> = {
  FeaturizeBatches: 'features',
  CrawlLinks: 'etl',
  GenerateBatches: 'datasets',
  CollectEachAuthor: 'continuousTraining',
};

const EXPRESS_LIMIT_SECONDS = 300;

function* mapStates(definition: AslDefinition): Generator<{ name: string; state: MapState }> {
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === 'Map') yield { name, state: state };
    for (const branch of state.Branches ?? []) yield* mapStates(branch);
    if (state.ItemProcessor) yield* mapStates(state.ItemProcessor);
  }
}

/** The longest a Task can take with every retry: attempts times its timeout, plus the back-offs. */
function worstCaseSeconds(task: TimedTask): number {
  const timeout = task.TimeoutSeconds ?? Number.POSITIVE_INFINITY;
  const retries = Math.max(0, ...(task.Retry ?? []).map((rule) => rule.MaxAttempts ?? 3));
  const rule = (task.Retry ?? []).find((candidate) => (candidate.MaxAttempts ?? 3) === retries);
  let waits = 0;
  for (let attempt = 0; attempt < retries; attempt++) {
    waits += (rule?.IntervalSeconds ?? 1) * (rule?.BackoffRate ?? 2) ** attempt;
  }
  return timeout * (retries + 1) + waits;
}

describe('the workflows fan out with Distributed Maps over S3', () => {
  for (const stage of STAGES) {
    it(`${stage}: every Map reads its items and writes its results in S3, at the stage's concurrency`, async () => {
      const config = await readStageConfig(join(REPO_ROOT, 'configs'), stage);
      const assembly = await cloudAssembly(stage);
      const machines = await synthesizedStateMachines(assembly);
      const problems: string[] = [];
      const seen = new Set<string>();
      for (const machine of machines) {
        for (const { name, state } of mapStates(machine.definition)) {
          seen.add(name);
          const where = `${machine.logicalId}/${name}`;
          const processor = state.ItemProcessor?.ProcessorConfig;
          if (processor?.Mode !== 'DISTRIBUTED') problems.push(`${where}: an inline Map`);
          if (state.ItemsPath !== undefined)
            problems.push(`${where}: items from the payload (${state.ItemsPath})`);
          if (
            state.ItemReader?.Resource !== 'arn:aws:states:::s3:getObject' ||
            !state.ItemReader.Parameters?.['Key.$']
          )
            problems.push(`${where}: no item file read from S3`);
          if (!state.ResultWriter?.Parameters?.Prefix?.startsWith('workflow-runs/'))
            problems.push(`${where}: results not written under workflow-runs/`);
          const setting = CONCURRENCY_OF[name];
          if (!setting) problems.push(`${where}: no concurrency setting in the stage config`);
          else if (state.MaxConcurrency !== config.workflows.concurrency[setting])
            problems.push(
              `${where}: MaxConcurrency ${String(state.MaxConcurrency)} is not the stage's ${setting}`,
            );
          if (processor?.ExecutionType === 'EXPRESS') {
            for (const [taskName, task] of Object.entries(state.ItemProcessor?.States ?? {})) {
              if (task.Type !== 'Task') continue;
              if (/\.sync|waitForTaskToken/u.test(task.Resource ?? ''))
                problems.push(`${where}/${taskName}: an Express child cannot wait for a job`);
              const worst = worstCaseSeconds(task);
              if (worst > EXPRESS_LIMIT_SECONDS)
                problems.push(
                  `${where}/${taskName}: may run ${String(worst)} s, past Express's ${String(EXPRESS_LIMIT_SECONDS)}`,
                );
            }
          } else if (processor?.ExecutionType !== 'STANDARD') {
            problems.push(`${where}: child execution type not chosen`);
          }
        }
      }
      expect(problems).toEqual([]);
      expect([...seen].sort()).toEqual(Object.keys(CONCURRENCY_OF).sort());
    });

    it(`${stage}: a workflow with a Distributed Map may start, watch and stop its own child executions`, async () => {
      const assembly = await cloudAssembly(stage);
      const machines = await synthesizedStateMachines(assembly);
      const templates = await stackTemplates(assembly);
      const withMaps = machines.filter((machine) => [...mapStates(machine.definition)].length > 0);
      expect(withMaps).toHaveLength(4);
      for (const machine of withMaps) {
        const template = templates.find((candidate) => candidate.stack === machine.stack)?.template;
        const statements = Object.values(template?.Resources ?? {})
          .filter((resource) => resource.Type === 'AWS::IAM::Policy')
          .flatMap(
            (policy) =>
              (
                policy.Properties?.PolicyDocument as {
                  Statement: { Action: string | string[]; Resource: unknown }[];
                }
              ).Statement,
          );
        const onItself = statements.filter((statement) => {
          const resource = JSON.stringify(statement.Resource);
          return (
            [statement.Action].flat().includes('states:StartExecution') &&
            resource.includes(`"${machine.logicalId}"`)
          );
        });
        expect(onItself.length, machine.logicalId).toBeGreaterThan(0);
        const itemReads = statements.filter(
          (statement) =>
            [statement.Action].flat().some((action) => action.startsWith('s3:GetObject')) &&
            JSON.stringify(statement.Resource).includes('/workflow-runs/*'),
        );
        expect(itemReads.length, machine.logicalId).toBeGreaterThan(0);
      }
    });
  }
});
