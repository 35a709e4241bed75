import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { awsLintersEnvironment, serviceErrorShapes } from '../support/aws-service-models.js';
import {
  caughtNames,
  cloudAssembly,
  referencedId,
  STAGES,
  synthesizedFunctions,
  synthesizedStateMachines,
  taskStates,
  type SynthesizedFunction,
} from '../support/cloud-assembly.js';
import { REPO_ROOT } from '../support/environment.js';
import { imageTaskRoot, taskRootCode } from '../support/lambda-runtime.js';

/**
 * Every name in a deployed workflow's ErrorEquals is one that something raises: a `States.*` error of
 * the language, an error the task's integration documents (named as Step Functions names them), or an
 * error class that the invoked function's own bundle defines. A name nothing raises never matches, so
 * its Retry or Catch silently does nothing.
 */

/** The errors the Amazon States Language defines. */
const STATES_ERRORS = new Set([
  'States.ALL',
  'States.HeartbeatTimeout',
  'States.Timeout',
  'States.TaskFailed',
  'States.Permissions',
  'States.ResultPathMatchFailure',
  'States.ParameterPathFailure',
  'States.QueryEvaluationError',
  'States.BranchFailed',
  'States.NoChoiceMatched',
  'States.IntrinsicFailure',
  'States.ExceedToleratedFailureThreshold',
  'States.ItemReaderFailed',
  'States.ResultWriterFailed',
  'States.Runtime',
]);

/** What the Lambda service itself raises around an invocation (throttling, service faults). */
const LAMBDA_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.Unknown',
];

/** Errors every AWS query/JSON API can return beside those of its model (AWS's common errors). */
const COMMON_ERRORS = [
  'ThrottlingException',
  'InternalFailure',
  'ServiceUnavailable',
  'AccessDeniedException',
];

/** A task resource's service, as its ARN names it, and the names Step Functions and botocore give it. */
const SERVICES: Record<string, { stepFunctionsName: string; botocore: string; javaSdkBase: string }> = {
  sagemaker: {
    stepFunctionsName: 'SageMaker',
    botocore: 'sagemaker',
    javaSdkBase: 'AmazonSageMakerException',
  },
  states: {
    stepFunctionsName: 'StepFunctions',
    botocore: 'stepfunctions',
    javaSdkBase: 'AWSStepFunctionsException',
  },
  sns: { stepFunctionsName: 'SNS', botocore: 'sns', javaSdkBase: 'AmazonSNSException' },
};

/** Step Functions names a service error `<Service>.<Name>Exception`, adding the suffix when the API lacks it. */
const withSuffix = (name: string) => (name.endsWith('Exception') ? name : `${name}Exception`);

/** The error classes of our code (`class X extends Y` where Y leads to Error), each with its parent. */
async function errorClassesInSource(): Promise<Map<string, string>> {
  const parents = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name.endsWith('.ts')) {
        for (const match of (await readFile(path, 'utf8')).matchAll(/class (\w+) extends (\w+)/gu)) {
          parents.set(match[1] ?? '', match[2] ?? '');
        }
      }
    }
  };
  await walk(join(REPO_ROOT, 'lambdas'));
  const isError = (name: string, depth = 0): boolean =>
    name === 'Error' || (depth < 10 && parents.has(name) && isError(parents.get(name) ?? '', depth + 1));
  return new Map([...parents].filter(([name]) => isError(name)));
}

/** The classes a name stands for in our code: itself and its ancestors up to Error. */
function lineage(name: string, classes: ReadonlyMap<string, string>): string[] {
  const chain = [name];
  for (let parent = classes.get(name); parent && parent !== 'Error'; parent = classes.get(parent))
    chain.push(parent);
  return chain;
}

describe.skipIf(!awsLintersEnvironment())('error names in the deployed workflows', () => {
  let models: Record<string, string[]>;
  let errorClasses: Map<string, string>;
  const bundles = new Map<string, Promise<string>>();

  beforeAll(async () => {
    models = await serviceErrorShapes(
      awsLintersEnvironment() ?? '',
      Object.values(SERVICES).map((service) => service.botocore),
    );
    errorClasses = await errorClassesInSource();
  });

  /** The code a function runs: its zip bundle, or its image's entry bundle built as the Dockerfile does. */
  function bundleText(fn: SynthesizedFunction): Promise<string> {
    let text = bundles.get(fn.logicalId);
    if (!text) {
      text =
        fn.code.kind === 'zip'
          ? readFile(join(fn.code.assetDir, 'index.mjs'), 'utf8')
          : imageTaskRoot(fn).then(taskRootCode);
      bundles.set(fn.logicalId, text);
    }
    return text;
  }

  /** The names a task's integration can raise; for one of our functions, also the classes it defines. */
  async function raisable(
    resource: string,
    functions: Map<string, SynthesizedFunction>,
  ): Promise<Set<string>> {
    const ref = referencedId(resource);
    if (ref) {
      const fn = functions.get(ref);
      if (!fn) throw new Error(`task resource ${resource} is not a function of its stack`);
      const code = await bundleText(fn);
      const own = [...errorClasses.keys()].filter((name) => new RegExp(`\\b${name}\\b`, 'u').test(code));
      return new Set([...LAMBDA_ERRORS, ...own]);
    }
    const integration = /^arn:aws:states:::(aws-sdk:)?([a-z0-9]+):/u.exec(resource);
    const service = SERVICES[integration?.[2] ?? ''];
    if (!integration || !service) throw new Error(`no error catalogue for the integration ${resource}`);
    const names = [...(models[service.botocore] ?? []), ...COMMON_ERRORS].map(
      (name) => `${service.stepFunctionsName}.${withSuffix(name)}`,
    );
    // Optimized integrations also raise their Java SDK's base class and client error; SDK ones do not.
    if (!integration[1]) {
      names.push(
        `${service.stepFunctionsName}.${service.javaSdkBase}`,
        `${service.stepFunctionsName}.SdkClientException`,
      );
    }
    return new Set(names);
  }

  for (const stage of STAGES) {
    it(`${stage}: a state that catches an error class by name also names each subclass its function defines`, async () => {
      // Step Functions matches names exactly: catching InvalidInputError does not catch an
      // InvalidSettingsError, though the code means "bad input, do not retry" for both.
      const assembly = await cloudAssembly(stage);
      const functions = new Map((await synthesizedFunctions(assembly)).map((fn) => [fn.logicalId, fn]));
      const uncaught: string[] = [];
      for (const machine of await synthesizedStateMachines(assembly)) {
        for (const { name, path, state } of taskStates(machine.definition)) {
          const fn = functions.get(referencedId(state.Resource) ?? '');
          if (!fn) continue;
          const code = await bundleText(fn);
          for (const rule of [...(state.Retry ?? []), ...(state.Catch ?? [])]) {
            const named = new Set(rule.ErrorEquals);
            for (const error of errorClasses.keys()) {
              if (named.has(error) || !new RegExp(`\\b${error}\\b`, 'u').test(code)) continue;
              const ancestor = lineage(error, errorClasses).find((kind) => named.has(kind));
              if (ancestor)
                uncaught.push(`${machine.stack} ${[...path, name].join('/')}: ${error} (a ${ancestor})`);
            }
          }
        }
      }
      expect([...new Set(uncaught)]).toEqual([]);
    }, 300_000);

    it(`${stage}: each ErrorEquals name is raised by the state's task or defined by the language`, async () => {
      const assembly = await cloudAssembly(stage);
      const functions = new Map((await synthesizedFunctions(assembly)).map((fn) => [fn.logicalId, fn]));
      const unmatched: string[] = [];
      let checked = 0;
      for (const machine of await synthesizedStateMachines(assembly)) {
        for (const { name, path, state } of taskStates(machine.definition)) {
          const known = await raisable(state.Resource ?? '', functions);
          for (const error of caughtNames(state)) {
            checked += 1;
            if (!known.has(error)) unmatched.push(`${machine.stack} ${[...path, name].join('/')}: ${error}`);
          }
        }
        for (const { state } of taskStates(machine.definition)) {
          const rules = [...(state.Retry ?? []), ...(state.Catch ?? [])];
          for (const error of rules.flatMap((rule) => rule.ErrorEquals)) {
            if (error.startsWith('States.') && !STATES_ERRORS.has(error))
              unmatched.push(`${machine.stack}: ${error}`);
          }
        }
      }
      expect(unmatched).toEqual([]);
      expect(checked).toBeGreaterThan(20);
    }, 300_000);
  }

  it('knows the names Step Functions gives service errors', () => {
    expect(withSuffix('ResourceNotFound')).toBe('ResourceNotFoundException');
    expect(withSuffix('ConflictException')).toBe('ConflictException');
    expect(models.sagemaker).toContain('ResourceLimitExceeded');
    expect(models.stepfunctions).toContain('ExecutionLimitExceeded');
  });
});
