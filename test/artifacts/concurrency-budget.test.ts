import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readStageConfig, reservableConcurrency, type StageConfig } from '../../lib/stage-config.js';
import {
  cloudAssembly,
  STAGES,
  synthesizedFunctions,
  synthesizedStateMachines,
  type SynthesizedStateMachine,
} from '../support/cloud-assembly.js';
import { workflowDemand, type Demand } from '../support/concurrency-budget.js';
import { REPO_ROOT } from '../support/environment.js';

/**
 * The Lambda concurrency budget, computed from the synthesized templates and workflow definitions:
 * what can run at once is one continuous-training execution and one collection run started from the
 * web app beside it (a collection run holds its author; README, "Lambda concurrency"), plus API
 * traffic up to the stage's burst limit. A function's reserved concurrency must cover what can reach
 * it at once; all reservations must leave AWS its 100 unreserved executions of the stated quota; the
 * workflows' peak must fit the unreserved pool.
 */

/** A workflow by the handler of the first function its definition invokes (stable across stages). */
function machineInvoking(
  machines: SynthesizedStateMachine[],
  functionId: string | undefined,
): SynthesizedStateMachine | undefined {
  return machines.find((machine) =>
    JSON.stringify(machine.definition).includes(`"ref:${String(functionId)}"`),
  );
}

function plus(a: Demand, b: Demand): Demand {
  const sum = new Map(a);
  for (const [fn, count] of b) sum.set(fn, (sum.get(fn) ?? 0) + count);
  return sum;
}

async function budgetOf(stage: (typeof STAGES)[number], config: StageConfig) {
  const assembly = await cloudAssembly(stage);
  const functions = await synthesizedFunctions(assembly);
  const machines = await synthesizedStateMachines(assembly);
  const byId = new Map(machines.map((machine) => [machine.logicalId, machine]));
  const idOf = (handler: string) => functions.find((fn) => fn.handlerName === handler)?.logicalId;
  const continuous = machineInvoking(machines, idOf('ct-authors'));
  const collection = machineInvoking(machines, idOf('crawl'));
  if (!continuous || !collection) throw new Error('the continuous-training or ETL workflow is missing');

  const ct = workflowDemand(continuous, byId);
  const etl = workflowDemand(collection, byId);
  let demand = plus(ct.byFunction, etl.byFunction);
  // Every API request runs one function; API Gateway lets at most burstLimit arrive at once.
  for (const handler of ['rag', 'workspace']) {
    const id = idOf(handler);
    if (id) demand = plus(demand, new Map([[id, config.rag.burstLimit]]));
  }
  const workflowPeak = ct.together + etl.together;
  return { functions, demand, workflowPeak };
}

describe('the Lambda concurrency budget', () => {
  for (const stage of STAGES) {
    it(`${stage}: every reservation covers its function's demand and the account can grant them all`, async () => {
      const config = await readStageConfig(join(REPO_ROOT, 'configs'), stage);
      const { functions, demand, workflowPeak } = await budgetOf(stage, config);
      const reserved = functions.filter((fn) => fn.reservedConcurrency !== undefined);
      const starved = reserved
        .filter((fn) => (demand.get(fn.logicalId) ?? 0) > (fn.reservedConcurrency ?? 0))
        .map(
          (fn) =>
            `${String(fn.handlerName)}: ${String(demand.get(fn.logicalId))} at once > ${String(fn.reservedConcurrency)} reserved`,
        );
      expect(starved).toEqual([]);

      const totalReserved = reserved.reduce((sum, fn) => sum + (fn.reservedConcurrency ?? 0), 0);
      expect(totalReserved).toBeLessThanOrEqual(reservableConcurrency(config));
      expect(workflowPeak).toBeLessThanOrEqual(config.lambda.accountConcurrency - totalReserved);
      // The demand was really computed: the crawler is reached through continuous training's ETL.
      const crawl = functions.find((fn) => fn.handlerName === 'crawl');
      expect(demand.get(crawl?.logicalId ?? '')).toBeGreaterThanOrEqual(2);
    });
  }

  it('the dev stage deploys on a new account: nothing reserved, the workflows within 10 executions', async () => {
    const config = await readStageConfig(join(REPO_ROOT, 'configs'), 'dev');
    expect(config.lambda.accountConcurrency).toBe(10);
    const { functions, workflowPeak } = await budgetOf('dev', config);
    expect(functions.filter((fn) => fn.reservedConcurrency !== undefined)).toEqual([]);
    expect(workflowPeak).toBeLessThanOrEqual(10);
  });
});
