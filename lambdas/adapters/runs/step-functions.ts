import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  StartExecutionCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { CollectionRun, CollectionRuns, RunLink, RunRequest } from '../../ports/collection-runs.js';
import { RunInProgressError } from '../../ports/collection-runs.js';
import type { S3RunClaims } from './s3-run-claims.js';

/**
 * A claim whose execution cannot be found yet belongs to a run that is starting; after this long it
 * belongs to a start that failed, and no longer holds the author.
 */
const START_GRACE_MS = 60_000;

/** Run ids are execution names; anything else is not ours to describe. */
const RUN_ID = /^web-[A-Za-z0-9-]{1,70}$/u;

/** The ETL workflow's output (statemachines/etl.asl.json, the `summarize` step). */
const ExportOutcomeSchema = z.object({
  platform: z.string(),
  found: z.number(),
  inserted: z.number(),
  alreadyThere: z.number(),
  skipped: z.record(z.string(), z.number()),
  problems: z.array(z.object({ file: z.string(), line: z.number().optional(), reason: z.string() })),
});

const EtlOutputSchema = z.looseObject({
  export: ExportOutcomeSchema.optional(),
  links: z
    .array(
      z.object({
        input: z.string(),
        outcome: z.enum(['inserted', 'skipped', 'blocked', 'failed']),
        documents: z.number().int().min(0).default(0),
        reason: z.string().optional(),
        hint: z.string().optional(),
        detail: z.string().optional(),
      }),
    )
    .optional(),
});

const EtlInputSchema = z.looseObject({ author: z.string(), links: z.array(z.string()).default([]) });

/**
 * Collection runs as executions of the ETL workflow on Step Functions (which itself starts the
 * feature workflow when something new was stored). The run id is the execution's name; per-link
 * outcomes come from the workflow's output once it has finished. Execution names are unique for 90
 * days, so they cannot say "one run per author"; the claims in the artifact bucket do.
 */
export class StepFunctionsCollectionRuns implements CollectionRuns {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
    private readonly claims: S3RunClaims,
  ) {}

  async start(config: RunRequest): Promise<CollectionRun> {
    const id = `web-${new Date().toISOString().replace(/[:.]/gu, '-')}-${randomUUID().slice(0, 8)}`;
    const claim = await this.claims.claim(config.author, id, (holder, claimedAt) =>
      this.isActive(holder, claimedAt),
    );
    if (!claim.claimed) throw new RunInProgressError(claim.holder);
    // The workflow's input: an author config, or an author and the export to import.
    const links = 'links' in config ? config.links : [];
    const input =
      'export' in config
        ? { author: config.author, export: config.export }
        : { author: config.author, links };
    const started = await this.client.send(
      new StartExecutionCommand({
        stateMachineArn: this.stateMachineArn,
        name: id,
        input: JSON.stringify(input),
      }),
    );
    return {
      id,
      author: config.author,
      state: 'running',
      step: 'export' in config ? 'importing' : 'collecting',
      startedAt: (started.startDate ?? new Date()).toISOString(),
      links: links.map((link) => ({ input: link, outcome: 'pending', documents: 0 })),
    };
  }

  /** A run holds its author while its execution runs, or while it is only just starting. */
  private async isActive(id: string, claimedAt: Date): Promise<boolean> {
    if (!RUN_ID.test(id)) return false;
    try {
      const execution = await this.client.send(
        new DescribeExecutionCommand({ executionArn: this.executionArn(id) }),
      );
      return execution.status === 'RUNNING' || execution.status === 'PENDING_REDRIVE';
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return Date.now() - claimedAt.getTime() < START_GRACE_MS;
      throw error;
    }
  }

  async get(id: string): Promise<CollectionRun | undefined> {
    if (!RUN_ID.test(id)) return undefined;
    let execution;
    try {
      execution = await this.client.send(
        new DescribeExecutionCommand({ executionArn: this.executionArn(id) }),
      );
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return undefined;
      throw error;
    }
    const input = EtlInputSchema.safeParse(JSON.parse(execution.input ?? '{}'));
    const pending: RunLink[] = input.success
      ? input.data.links.map((link) => ({ input: link, outcome: 'pending', documents: 0 }))
      : [];
    const base = {
      id,
      author: input.success ? input.data.author : '',
      startedAt: (execution.startDate ?? new Date()).toISOString(),
      ...(execution.stopDate ? { finishedAt: execution.stopDate.toISOString() } : {}),
    };
    switch (execution.status) {
      case 'RUNNING':
      case 'PENDING_REDRIVE':
        return { ...base, state: 'running', step: 'collecting', links: pending };
      case 'SUCCEEDED': {
        const output = EtlOutputSchema.safeParse(JSON.parse(execution.output ?? '{}'));
        const links = output.success && output.data.links ? output.data.links : pending;
        const imported = output.success ? output.data.export : undefined;
        return {
          ...base,
          state: 'succeeded',
          step: 'done',
          links,
          ...(imported ? { export: imported } : {}),
        };
      }
      default:
        return {
          ...base,
          state: 'failed',
          step: 'done',
          links: pending,
          error: [execution.error, execution.cause].filter(Boolean).join(': ') || String(execution.status),
        };
    }
  }

  /** arn:…:stateMachine:<name> → arn:…:execution:<name>:<run id>. */
  private executionArn(id: string): string {
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${id}`;
  }
}
