import { randomUUID } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { StateMachine } from 'aws-local-stepfunctions';
import './state-machines.js'; // Node 20 support for the local runner

/**
 * The smallest shim that lets the local runner (aws-local-stepfunctions 3, which validates a
 * Distributed Map's ItemReader and ResultWriter but runs every Map inline over an ItemsPath) run our
 * Distributed Maps with the same S3 objects Step Functions uses: each one becomes three states, one
 * that reads the item file named by the ItemReader through the S3 client, the Map itself (inline,
 * same ItemSelector, processor and MaxConcurrency), and one that writes the children's results as a
 * ResultWriter does (SUCCEEDED_0.json, FAILED_0.json and manifest.json under
 * <Prefix>/<map run id>/), fails the state past ToleratedFailurePercentage, and outputs
 * {MapRunArn, ResultWriterDetails}. Every state's input and output outside the shim's own states is
 * checked against Step Functions' 256 KiB payload limit.
 */

type Json = Parameters<StateMachine['run']>[0];
type RunOptions = NonNullable<Parameters<StateMachine['run']>[1]>;
type JsonObject = Record<string, unknown>;

interface AslState extends JsonObject {
  Type: string;
}
interface AslDefinition extends JsonObject {
  StartAt: string;
  States: Record<string, AslState>;
}

/** Step Functions' limit on a state's input or output, and on an execution's input and output. */
export const PAYLOAD_LIMIT_BYTES = 256 * 1024;

const SCRATCH = '__distributedMap';
const CHILD_RUN = '__childRun';
const SUPPORTED_FIELDS = new Set([
  'Type',
  'Comment',
  'ItemReader',
  'ItemSelector',
  'ItemProcessor',
  'MaxConcurrency',
  'ToleratedFailurePercentage',
  'ResultWriter',
  'ResultPath',
  'Label',
  'Next',
  'End',
  'Catch',
]);

const mapStateOf = (name: string) => `${name} (map)`;
const resultsStateOf = (name: string) => `${name} (results)`;

function isDistributedMap(state: AslState): boolean {
  const processor = state.ItemProcessor as { ProcessorConfig?: { Mode?: string } } | undefined;
  return state.Type === 'Map' && processor?.ProcessorConfig?.Mode === 'DISTRIBUTED';
}

/** `$`, `$.a` or `$.a.b`: the ResultPath forms our workflows use. */
function placed(input: JsonObject, resultPath: unknown, result: unknown): unknown {
  if (resultPath === null) return input;
  if (resultPath === undefined || resultPath === '$') return result;
  if (typeof resultPath !== 'string' || !/^\$(\.\w+)+$/u.test(resultPath)) {
    throw new Error(`the Distributed Map shim does not handle ResultPath ${JSON.stringify(resultPath)}`);
  }
  const output: JsonObject = structuredClone(input);
  const fields = resultPath.slice(2).split('.');
  let at = output;
  for (const field of fields.slice(0, -1)) {
    const next = at[field];
    at[field] = typeof next === 'object' && next !== null ? next : {};
    at = at[field] as JsonObject;
  }
  at[fields.at(-1) as string] = result;
  return output;
}

class ToleratedFailureExceeded extends Error {
  override name = 'States.ExceedToleratedFailureThreshold';
}

interface Shimmed {
  definition: AslDefinition;
  handlers: Record<string, (input: Json) => Promise<Json>>;
  /** States whose input (entered) or output (exited) is the shim's own, not a real payload. */
  unchecked: { entered: Set<string>; exited: Set<string> };
}

function shim(definition: AslDefinition, s3: S3Client | undefined): Shimmed {
  const states: Record<string, AslState> = {};
  const handlers: Shimmed['handlers'] = {};
  const unchecked = { entered: new Set<string>(), exited: new Set<string>() };
  for (const [name, state] of Object.entries(definition.States)) {
    if (!isDistributedMap(state)) {
      states[name] = state;
      continue;
    }
    if (!s3)
      throw new Error(`${name} is a Distributed Map: run the workflow with an S3 client for its items`);
    const unknown = Object.keys(state).filter((field) => !SUPPORTED_FIELDS.has(field));
    if (unknown.length > 0) throw new Error(`the Distributed Map shim does not handle ${unknown.join(', ')}`);
    const reader = state.ItemReader as { ReaderConfig?: { InputType?: string }; Parameters: JsonObject };
    if (reader.ReaderConfig?.InputType !== 'JSON')
      throw new Error(`${name}: only JSON item files are shimmed`);
    const writer = (state.ResultWriter as { Parameters?: { Bucket?: unknown; Prefix?: unknown } } | undefined)
      ?.Parameters;
    if (typeof writer?.Bucket !== 'string' || typeof writer.Prefix !== 'string') {
      throw new Error(`${name}: the shim needs a ResultWriter with a fixed Bucket and Prefix`);
    }
    const processor = state.ItemProcessor as { StartAt: string; States: JsonObject };
    const catchers = state.Catch ? { Catch: state.Catch } : {};
    const mapState = mapStateOf(name);
    const resultsState = resultsStateOf(name);

    const failedState = `${name} (child failed)`;
    const tolerated =
      typeof state.ToleratedFailurePercentage === 'number' ? state.ToleratedFailurePercentage : 0;
    states[name] = {
      Type: 'Task',
      Resource: 'arn:aws:states:::s3:getObject',
      Parameters: { ...reader.Parameters, 'execution.$': '$$.Execution.Name' },
      ResultPath: `$.${SCRATCH}.items`,
      Next: mapState,
      ...catchers,
    };
    states[mapState] = {
      Type: 'Map',
      ItemsPath: `$.${SCRATCH}.items`,
      ...(state.ItemSelector ? { ItemSelector: state.ItemSelector } : {}),
      ...(state.MaxConcurrency !== undefined ? { MaxConcurrency: state.MaxConcurrency } : {}),
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'Child execution',
        States: {
          // A child execution's outcome, kept beside its input as the ResultWriter records both.
          'Child execution': {
            Type: 'Parallel',
            Branches: [{ StartAt: processor.StartAt, States: processor.States }],
            ResultSelector: { 'output.$': '$[0]' },
            ResultPath: `$.${CHILD_RUN}`,
            Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: `$.${CHILD_RUN}`, Next: failedState }],
            End: true,
          },
          // Counts the failure; past ToleratedFailurePercentage it fails the Map, stopping the other children.
          [failedState]: {
            Type: 'Task',
            Resource: 'arn:aws:states:::states:describeExecution',
            Parameters: { 'execution.$': '$$.Execution.Name', 'run.$': '$' },
            End: true,
          },
        },
      },
      ResultPath: `$.${SCRATCH}.results`,
      Next: resultsState,
      ...catchers,
    };
    states[resultsState] = {
      Type: 'Task',
      Resource: 'arn:aws:states:::s3:putObject',
      // No ResultPath: the output replaces the state (the runner reads an explicit '$' as a field name).
      Parameters: { 'state.$': '$' },
      ...(state.End ? { End: true } : { Next: state.Next }),
      ...catchers,
    };
    unchecked.exited.add(name).add(mapState);
    unchecked.entered.add(mapState).add(resultsState);

    // Per execution (a simulator runs several at once): how many children the Map has and how many failed.
    const runs = new Map<string, { total: number; failed: number }>();
    handlers[name] = async (input) => {
      const { Bucket, Key, execution } = input as { Bucket: string; Key: string; execution: string };
      const object = await s3.send(new GetObjectCommand({ Bucket, Key }));
      const items = JSON.parse((await object.Body?.transformToString('utf8')) ?? 'null') as unknown;
      if (!Array.isArray(items)) throw new Error(`s3://${Bucket}/${Key} is not a JSON array of items`);
      runs.set(execution, { total: items.length, failed: 0 });
      return items as Json;
    };
    handlers[failedState] = (input) => {
      const { execution, run } = input as { execution: string; run: Json };
      const counts = runs.get(execution) ?? { total: 1, failed: 0 };
      counts.failed += 1;
      if ((counts.failed / counts.total) * 100 > tolerated) {
        return Promise.reject(
          new ToleratedFailureExceeded(
            `${String(counts.failed)} of ${String(counts.total)} child executions failed, over the ${String(tolerated)}% tolerated`,
          ),
        );
      }
      return Promise.resolve(run);
    };
    handlers[resultsState] = async (input) => {
      const { [SCRATCH]: scratch, ...original } = (input as { state: JsonObject }).state;
      const children = (scratch as { results: JsonObject[] }).results;
      const runId = randomUUID();
      const mapRunArn = `arn:aws:states:eu-west-1:123456789012:mapRun:local/${name}:${runId}`;
      const records = { SUCCEEDED: [] as JsonObject[], FAILED: [] as JsonObject[] };
      for (const [index, run] of children.entries()) {
        const { [CHILD_RUN]: outcome, ...childInput } = run;
        const common = {
          ExecutionArn: `${mapRunArn}:${String(index)}`,
          Input: JSON.stringify(childInput),
          InputDetails: { Included: true },
        };
        const {
          output,
          Error: error,
          Cause: cause,
        } = outcome as { output?: unknown; Error?: string; Cause?: string };
        if (error === undefined) {
          records.SUCCEEDED.push({ ...common, Output: JSON.stringify(output), Status: 'SUCCEEDED' });
        } else {
          records.FAILED.push({ ...common, Error: error, Cause: cause ?? '', Status: 'FAILED' });
        }
      }
      const bucket = writer.Bucket as string;
      const folder = `${writer.Prefix as string}/${runId}`;
      const put = (key: string, body: unknown) =>
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(body) }));
      const files: Record<string, { Key: string; Size: number }[]> = {
        SUCCEEDED: [],
        FAILED: [],
        PENDING: [],
      };
      for (const [status, list] of Object.entries(records)) {
        if (list.length === 0) continue;
        const key = `${folder}/${status}_0.json`;
        await put(key, list);
        files[status]?.push({ Key: key, Size: JSON.stringify(list).length });
      }
      const manifestKey = `${folder}/manifest.json`;
      await put(manifestKey, { DestinationBucket: bucket, MapRunArn: mapRunArn, ResultFiles: files });
      const output = { MapRunArn: mapRunArn, ResultWriterDetails: { Bucket: bucket, Key: manifestKey } };
      return placed(original, state.ResultPath, output) as Json;
    };
  }
  return { definition: { ...definition, States: states }, handlers, unchecked };
}

function sizeOf(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');
}

/**
 * A definition of statemachines/ run locally with its Distributed Maps shimmed over S3 (the given
 * client, e.g. the S3 simulator's): `run` is StateMachine.run, and its result also fails when any
 * state's input or output was over the payload limit.
 */
export function localWorkflow(definition: unknown, s3?: S3Client) {
  const shimmed = shim(definition as AslDefinition, s3);
  const machine = new StateMachine(shimmed.definition as never);
  return {
    run(input: Json, options: RunOptions = {}) {
      const execution = machine.run(input, {
        // Each run is a new execution, named as Step Functions names one when the caller does not.
        context: { Execution: { Name: randomUUID() } },
        ...options,
        overrides: {
          ...options.overrides,
          taskResourceLocalHandlers: { ...options.overrides?.taskResourceLocalHandlers, ...shimmed.handlers },
        },
      });
      const oversized = (async () => {
        const found: string[] = [];
        const check = (where: string, value: unknown) => {
          const bytes = sizeOf(value);
          if (bytes > PAYLOAD_LIMIT_BYTES) found.push(`${where}: ${String(bytes)} bytes`);
        };
        check('execution input', input);
        for await (const event of execution.eventLogs) {
          if (event.type === 'StateEntered' && !shimmed.unchecked.entered.has(event.state.name)) {
            check(`${event.state.name} input`, event.state.input);
          } else if (event.type === 'StateExited' && !shimmed.unchecked.exited.has(event.state.name)) {
            check(`${event.state.name} output`, event.state.output);
          } else if (event.type === 'ExecutionSucceeded') {
            check('execution output', event.output);
          }
        }
        return found;
      })();
      const result = execution.result.then(async (output) => {
        const found = await oversized;
        if (found.length > 0) {
          throw new Error(
            `over Step Functions' ${String(PAYLOAD_LIMIT_BYTES)}-byte payload limit: ${found.join('; ')}`,
          );
        }
        return output;
      });
      return { result, abort: execution.abort };
    },
  };
}
