import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { StepFunctionsCollectionRuns } from '../../lambdas/adapters/runs/step-functions.js';
import { S3RunClaims } from '../../lambdas/adapters/runs/s3-run-claims.js';

const sfn = mockClient(SFNClient);
const s3 = mockClient(S3Client);
const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:llm-twin-dev-etl';
const EXECUTIONS = 'arn:aws:states:eu-west-1:123456789012:execution:llm-twin-dev-etl';
const config = {
  author: 'Ada Lovelace',
  links: ['https://ada.example.com/p/a', 'https://ada.example.com/p/b'],
};
const input = JSON.stringify(config);
const started = new Date('2026-11-28T10:00:00Z');

describe('collection runs on Step Functions (the ETL workflow)', () => {
  afterEach(() => {
    sfn.reset();
    s3.reset();
  });
  const claims = new S3RunClaims(new S3Client({ region: 'eu-west-1' }), 'artifacts');
  const runs = new StepFunctionsCollectionRuns(new SFNClient({ region: 'eu-west-1' }), MACHINE, claims);

  it('claims the author, then starts an execution named by the run id, with the author and links as input', async () => {
    s3.on(PutObjectCommand).resolves({ ETag: '"1"' });
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${EXECUTIONS}:x`, startDate: started });
    const run = await runs.start(config);

    const request = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(request).toEqual({ stateMachineArn: MACHINE, name: run.id, input });
    expect(run.id).toMatch(/^web-2\d{3}-[\d-]+T[\d-]+Z-[0-9a-f]{8}$/u);
    expect(run).toMatchObject({ author: 'Ada Lovelace', state: 'running', startedAt: started.toISOString() });
    expect(run.links.map((link) => link.outcome)).toEqual(['pending', 'pending']);
    const claim = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(claim).toMatchObject({ Bucket: 'artifacts', IfNoneMatch: '*' });
    expect(JSON.parse(claim?.Body as string)).toMatchObject({ runId: run.id, author: 'Ada Lovelace' });
  });

  it('reads a finished run with every link outcome from the workflow output', async () => {
    sfn.on(DescribeExecutionCommand, { executionArn: `${EXECUTIONS}:web-1` }).resolves({
      status: 'SUCCEEDED',
      input,
      startDate: started,
      stopDate: new Date('2026-11-28T10:03:00Z'),
      output: JSON.stringify({
        author: 'Ada Lovelace',
        inserted: 1,
        links: [
          { input: 'https://ada.example.com/p/a', outcome: 'inserted', documents: 1 },
          { input: 'https://ada.example.com/p/b', outcome: 'failed', documents: 0, reason: 'HTTP 404' },
        ],
      }),
    });
    expect(await runs.get('web-1')).toEqual({
      id: 'web-1',
      author: 'Ada Lovelace',
      state: 'succeeded',
      step: 'done',
      startedAt: '2026-11-28T10:00:00.000Z',
      finishedAt: '2026-11-28T10:03:00.000Z',
      links: [
        { input: 'https://ada.example.com/p/a', outcome: 'inserted', documents: 1 },
        { input: 'https://ada.example.com/p/b', outcome: 'failed', documents: 0, reason: 'HTTP 404' },
      ],
    });
  });

  it('reports a running and a failed execution', async () => {
    sfn
      .on(DescribeExecutionCommand, { executionArn: `${EXECUTIONS}:web-running` })
      .resolves({ status: 'RUNNING', input, startDate: started });
    sfn.on(DescribeExecutionCommand, { executionArn: `${EXECUTIONS}:web-failed` }).resolves({
      status: 'FAILED',
      input,
      startDate: started,
      stopDate: started,
      error: 'InvalidInputError',
      cause: 'links.0: not a URL',
    });
    expect(await runs.get('web-running')).toMatchObject({ state: 'running', step: 'collecting' });
    expect(await runs.get('web-failed')).toMatchObject({
      state: 'failed',
      error: 'InvalidInputError: links.0: not a URL',
      links: [{ outcome: 'pending' }, { outcome: 'pending' }],
    });
  });

  it('knows no run for a foreign or unknown id, without describing foreign executions', async () => {
    sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'gone', $metadata: {} }));
    expect(await runs.get('web-unknown')).toBeUndefined();
    expect(await runs.get('nightly-ct-run')).toBeUndefined();
    expect(await runs.get('web-../../other')).toBeUndefined();
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(1);
  });
});
