import { NO_DEPLOYMENT_WORKFLOW } from '../../lib/continuous-training-stack.js';
import {
  referencedId,
  type AslDefinition,
  type AslState,
  type SynthesizedStateMachine,
} from './cloud-assembly.js';

/**
 * How many Lambda invocations a workflow execution can have in flight at once, read from its deployed
 * definition: a Task is one; the states of one definition run one after another, except Parallel
 * branches (added up) and Map iterations (times MaxConcurrency); a nested execution (.sync) brings the
 * demand of the workflow it starts.
 */

/** In-flight invocations by function logical id. */
export type Demand = Map<string, number>;

/** An inline Map without MaxConcurrency runs at most 40 iterations at once (Step Functions' limit). */
const INLINE_MAP_LIMIT = 40;

interface Workflows {
  machines: ReadonlyMap<string, SynthesizedStateMachine>;
  /** The definition being read, whose earlier states may write a nested workflow's ARN. */
  root: AslDefinition;
}

function added(a: Demand, b: Demand, times = 1): Demand {
  const sum = new Map(a);
  for (const [fn, count] of b) sum.set(fn, (sum.get(fn) ?? 0) + count * times);
  return sum;
}

function highest(a: Demand, b: Demand): Demand {
  const peak = new Map(a);
  for (const [fn, count] of b) peak.set(fn, Math.max(peak.get(fn) ?? 0, count));
  return peak;
}

/**
 * Per function, the most invocations in flight at once (`byFunction`), and over all functions together
 * the most at any one moment (`together`, at most the sum of the former).
 */
export function workflowDemand(
  machine: SynthesizedStateMachine,
  machines: ReadonlyMap<string, SynthesizedStateMachine>,
): { byFunction: Demand; together: number } {
  const peaks = definitionPeaks(machine.definition, { machines, root: machine.definition }, []);
  return { byFunction: peaks.byFunction, together: peaks.together };
}

interface Peaks {
  byFunction: Demand;
  together: number;
}

function definitionPeaks(definition: AslDefinition, workflows: Workflows, started: readonly string[]): Peaks {
  let peaks: Peaks = { byFunction: new Map(), together: 0 };
  for (const state of Object.values(definition.States)) {
    const one = statePeaks(state, workflows, started);
    peaks = {
      byFunction: highest(peaks.byFunction, one.byFunction),
      together: Math.max(peaks.together, one.together),
    };
  }
  return peaks;
}

function statePeaks(state: AslState, workflows: Workflows, started: readonly string[]): Peaks {
  const none: Peaks = { byFunction: new Map(), together: 0 };
  if (state.Type === 'Task') {
    const fn = referencedId(state.Resource);
    if (fn) return { byFunction: new Map([[fn, 1]]), together: 1 };
    if (!/^arn:aws:states:::states:startExecution\.sync/u.test(state.Resource ?? '')) return none;
    const arn = nestedArn(state, workflows.root);
    if (arn === NO_DEPLOYMENT_WORKFLOW) return none; // a stage without that workflow (no endpoint: no deployment workflow)
    const child = workflows.machines.get(referencedId(arn) ?? '');
    if (!child) throw new Error(`a nested execution of ${arn}, which is not a state machine of the app`);
    if (started.includes(arn))
      throw new Error(`workflows start each other in a cycle: ${[...started, arn].join(' -> ')}`);
    return definitionPeaks(child.definition, { ...workflows, root: child.definition }, [...started, arn]);
  }
  if (state.Type === 'Parallel') {
    return (state.Branches ?? []).reduce<Peaks>((sum, branch) => {
      const peaks = definitionPeaks(branch, workflows, started);
      return { byFunction: added(sum.byFunction, peaks.byFunction), together: sum.together + peaks.together };
    }, none);
  }
  if (state.Type === 'Map') {
    const processor = state.ItemProcessor ?? state.Iterator;
    if (!processor) return none;
    const mode = (processor as { ProcessorConfig?: { Mode?: string } }).ProcessorConfig?.Mode;
    const limit = state.MaxConcurrency && state.MaxConcurrency > 0 ? state.MaxConcurrency : undefined;
    if (!limit && mode === 'DISTRIBUTED') {
      throw new Error('a Distributed Map without MaxConcurrency can run 10,000 children at once');
    }
    const peaks = definitionPeaks(processor, workflows, started);
    const times = limit ?? INLINE_MAP_LIMIT;
    return { byFunction: added(new Map(), peaks.byFunction, times), together: peaks.together * times };
  }
  return none;
}

/**
 * The state machine a nested-execution task starts: its StateMachineArn, or, for one taken from the
 * state input (`StateMachineArn.$`), the ARN the workflow writes under that name (a Pass parameter).
 */
function nestedArn(state: AslState, root: AslDefinition): string {
  const parameters = state.Parameters ?? state.Arguments ?? {};
  if (typeof parameters.StateMachineArn === 'string') return parameters.StateMachineArn;
  const path = parameters['StateMachineArn.$'];
  const key = typeof path === 'string' ? path.split('.').at(-1) : undefined;
  const written = key ? writtenParameter(root, key) : undefined;
  if (written === undefined) throw new Error(`cannot tell which workflow ${String(path)} names`);
  return written;
}

function writtenParameter(definition: AslDefinition, key: string): string | undefined {
  for (const state of Object.values(definition.States)) {
    const value = state.Parameters?.[key];
    if (typeof value === 'string') return value;
    for (const nested of [...(state.Branches ?? []), state.ItemProcessor ?? state.Iterator]) {
      const found = nested ? writtenParameter(nested, key) : undefined;
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
