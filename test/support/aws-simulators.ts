import { createHash, createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { ExecutionAbortedError, ExecutionTimeoutError, type StateMachine } from 'aws-local-stepfunctions';
import { parseMultipart } from '../../lambdas/http/multipart.js';
import { startLoopbackServer } from './http-server.js';
import { localWorkflow } from './distributed-map.js';

const credentials = { accessKeyId: 'simulated', secretAccessKey: 'simulated' };

async function bodyOf(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function s3Error(response: ServerResponse, status: number, code: string, message: string): void {
  response.writeHead(status, { 'content-type': 'application/xml' });
  response.end(
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
  );
}

function preconditionFailed(response: ServerResponse): void {
  s3Error(
    response,
    412,
    'PreconditionFailed',
    'At least one of the pre-conditions you specified did not hold',
  );
}

/**
 * S3's object API over real HTTP, path-style, for the SDK's own S3Client: PUT, GET, HEAD and DELETE
 * of objects and ListObjectsV2 (one page), with the conditional writes S3 documents (If-None-Match: * creates only; If-Match:
 * <etag> replaces only that version; a failed condition is 412 PreconditionFailed). Each request is
 * decided whole once its body has arrived, as S3 decides one write before the next.
 */
export async function startS3Simulator(): Promise<{
  client: S3Client;
  url: string;
  objects: Map<string, { body: Buffer; etag: string }>;
  close(): Promise<void>;
}> {
  const objects = new Map<string, { body: Buffer; etag: string }>();
  let version = 0;
  const server = await startLoopbackServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://s3');
      const key = decodeURIComponent(url.pathname.slice(1));
      const body = await bodyOf(request);
      if (request.method === 'GET' && url.searchParams.get('list-type') === '2') {
        listObjects(response, objects, key.replace(/\/$/u, ''), url.searchParams.get('prefix') ?? '');
        return;
      }
      if (request.method === 'POST' && !key.includes('/')) {
        const stored = await presignedUpload(key, String(request.headers['content-type']), body);
        if ('error' in stored) {
          s3Error(response, stored.status, stored.error, stored.message);
          return;
        }
        version += 1;
        objects.set(stored.key, { body: stored.file, etag: `"${String(version)}"` });
        response.writeHead(204);
        response.end();
        return;
      }
      const current = objects.get(key);
      if (request.method === 'PUT') {
        const ifNoneMatch = request.headers['if-none-match'];
        const ifMatch = request.headers['if-match'];
        if (ifNoneMatch === '*' && current) {
          preconditionFailed(response);
          return;
        }
        if (ifMatch !== undefined && ifMatch !== current?.etag) {
          if (!current) {
            s3Error(response, 404, 'NoSuchKey', 'The specified key does not exist.');
            return;
          }
          preconditionFailed(response);
          return;
        }
        version += 1;
        const etag = `"${createHash('md5').update(body).update(String(version)).digest('hex')}"`;
        objects.set(key, { body, etag });
        response.writeHead(200, { etag });
        return response.end();
      }
      if (request.method === 'DELETE') {
        objects.delete(key);
        response.writeHead(204);
        return response.end();
      }
      if (!current) {
        if (request.method === 'HEAD') {
          response.writeHead(404);
          return response.end();
        }
        s3Error(response, 404, 'NoSuchKey', 'The specified key does not exist.');
        return;
      }
      response.writeHead(200, { etag: current.etag, 'content-length': String(current.body.length) });
      response.end(request.method === 'HEAD' ? undefined : current.body);
    })();
  });
  const client = new S3Client({
    endpoint: server.url,
    forcePathStyle: true,
    region: 'eu-west-1',
    credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return { client, url: server.url, objects, close: () => server.close() };
}

/** ListObjectsV2, in one page: the bucket's keys under a prefix. */
function listObjects(
  response: ServerResponse,
  objects: Map<string, { body: Buffer; etag: string }>,
  bucket: string,
  prefix: string,
): void {
  const escape = (text: string) => text.replace(/&/gu, '&amp;').replace(/</gu, '&lt;').replace(/>/gu, '&gt;');
  const contents = [...objects]
    .filter(([path]) => path.startsWith(`${bucket}/${prefix}`))
    .map(
      ([path, object]) =>
        `<Contents><Key>${escape(path.slice(bucket.length + 1))}</Key><Size>${String(object.body.length)}</Size><ETag>${escape(object.etag)}</ETag><LastModified>2026-01-01T00:00:00.000Z</LastModified><StorageClass>STANDARD</StorageClass></Contents>`,
    );
  response.writeHead(200, { 'content-type': 'application/xml' });
  response.end(
    `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${escape(bucket)}</Name><Prefix>${escape(prefix)}</Prefix><KeyCount>${String(contents.length)}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${contents.join('')}</ListBucketResult>`,
  );
}

type Upload = { key: string; file: Buffer } | { status: number; error: string; message: string };

/**
 * S3's browser upload (POST Object with a SigV4-signed policy), checked as S3 checks it: the
 * signature over the base64 policy with the key derived from the secret, date, region and service;
 * the expiration; and every condition (exact fields, starts-with, content-length-range).
 */
async function presignedUpload(bucket: string, contentType: string, body: Buffer): Promise<Upload> {
  const form = await parseMultipart(contentType, body, { maxFileBytes: 1024 * 1024 * 1024 });
  const fields: Record<string, string | undefined> = { ...form.fields, bucket };
  const denied = (message: string): Upload => ({ status: 403, error: 'AccessDenied', message });
  const credential = (fields['X-Amz-Credential'] ?? '').split('/');
  const [accessKey, date, region, service] = credential;
  if (accessKey !== credentials.accessKeyId || !date || !region || service !== 's3')
    return denied('Invalid according to Policy: credential');
  const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
  const signingKey = hmac(
    hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, date), region), 's3'),
    'aws4_request',
  );
  const expected = createHmac('sha256', signingKey)
    .update(fields.Policy ?? '')
    .digest('hex');
  if (expected !== fields['X-Amz-Signature'])
    return denied('The request signature we calculated does not match');
  const policy = JSON.parse(Buffer.from(fields.Policy ?? '', 'base64').toString('utf8')) as {
    expiration: string;
    conditions: (Record<string, string> | [string, string | number, string | number])[];
  };
  if (Date.parse(policy.expiration) < Date.now())
    return denied('Invalid according to Policy: Policy expired');
  for (const condition of policy.conditions) {
    if (!Array.isArray(condition)) {
      for (const [name, value] of Object.entries(condition)) {
        if (fields[name] !== value)
          return denied(
            `Invalid according to Policy: Policy Condition failed: ["eq", "$${name}", "${value}"]`,
          );
      }
      continue;
    }
    const [operator, first, second] = condition;
    if (operator === 'content-length-range') {
      if (form.file.bytes.length < Number(first) || form.file.bytes.length > Number(second))
        return {
          status: 400,
          error: 'EntityTooLarge',
          message: 'Your proposed upload exceeds the maximum allowed size',
        };
      continue;
    }
    const value = fields[String(first).replace(/^\$/u, '')] ?? '';
    const holds =
      operator === 'eq' ? value === second : operator === 'starts-with' && value.startsWith(String(second));
    if (!holds)
      return denied(`Invalid according to Policy: Policy Condition failed: ${JSON.stringify(condition)}`);
  }
  return { key: `${bucket}/${fields.key ?? ''}`, file: form.file.bytes };
}

type Json = Parameters<StateMachine['run']>[0];
type Handlers = NonNullable<
  NonNullable<Parameters<StateMachine['run']>[1]>['overrides']
>['taskResourceLocalHandlers'];

interface Execution {
  name: string;
  input: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  startDate: number;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
}

/**
 * Step Functions' execution API over real HTTP (the AWS JSON 1.0 protocol the SDK's SFNClient
 * speaks): StartExecution, which runs the state machine in the local runner (aws-local-stepfunctions)
 * with the given task handlers, and DescribeExecution, which reports what that run is doing.
 * Execution names are unique per state machine, as on AWS. Distributed Maps read and write their S3
 * objects through `s3` (the S3 simulator's client).
 */
export async function startStepFunctionsSimulator(
  stateMachineArn: string,
  definition: unknown,
  handlers: Handlers,
  s3?: S3Client,
): Promise<{
  client: SFNClient;
  executions: Map<string, Execution>;
  settled(): Promise<void>;
  close(): Promise<void>;
}> {
  const machine = localWorkflow(definition, s3);
  const executions = new Map<string, Execution>();
  const running = new Set<Promise<unknown>>();
  const executionArn = (name: string) =>
    `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  const answer = (response: ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
    response.end(JSON.stringify(body));
  };
  const fail = (response: ServerResponse, type: string, message: string) =>
    answer(response, 400, { __type: `com.amazonaws.swf.service.v2.model#${type}`, message });

  const server = await startLoopbackServer((request, response) => {
    void (async () => {
      const target = String(request.headers['x-amz-target'] ?? '');
      const body = JSON.parse((await bodyOf(request)).toString('utf8') || '{}') as Record<string, string>;
      if (target === 'AWSStepFunctions.StartExecution') {
        const name = body.name ?? '';
        if (body.stateMachineArn !== stateMachineArn) {
          fail(response, 'StateMachineDoesNotExist', 'no such state machine');
          return;
        }
        if (executions.has(name)) {
          fail(response, 'ExecutionAlreadyExists', `Execution Already Exists: '${executionArn(name)}'`);
          return;
        }
        const execution: Execution = {
          name,
          input: body.input ?? '{}',
          status: 'RUNNING',
          startDate: Date.now() / 1000,
        };
        executions.set(name, execution);
        const run = machine.run(JSON.parse(execution.input) as Json, {
          overrides: { taskResourceLocalHandlers: handlers },
          context: { Execution: { Name: name } },
        });
        const settled = run.result
          .then(
            (output) => {
              Object.assign(execution, { status: 'SUCCEEDED', output: JSON.stringify(output) });
            },
            (error: unknown) => {
              const status =
                error instanceof ExecutionTimeoutError
                  ? 'TIMED_OUT'
                  : error instanceof ExecutionAbortedError
                    ? 'ABORTED'
                    : 'FAILED';
              const { name: errorName, message } = error as Error;
              Object.assign(execution, { status, error: errorName, cause: message });
            },
          )
          .finally(() => {
            execution.stopDate = Date.now() / 1000;
            running.delete(settled);
          });
        running.add(settled);
        answer(response, 200, { executionArn: executionArn(name), startDate: execution.startDate });
        return;
      }
      if (target === 'AWSStepFunctions.DescribeExecution') {
        const name = (body.executionArn ?? '').split(':').at(-1) ?? '';
        const execution = executions.get(name);
        if (!execution || body.executionArn !== executionArn(name)) {
          fail(response, 'ExecutionDoesNotExist', `Execution Does Not Exist: '${body.executionArn ?? ''}'`);
          return;
        }
        answer(response, 200, { executionArn: executionArn(name), stateMachineArn, ...execution });
        return;
      }
      fail(response, 'UnknownOperationException', `the simulator does not answer ${target}`);
    })();
  });
  const client = new SFNClient({ endpoint: server.url, region: 'eu-west-1', credentials });
  return {
    client,
    executions,
    settled: async () => {
      await Promise.all([...running]);
    },
    close: () => server.close(),
  };
}

/**
 * Secrets Manager's GetSecretValue over real HTTP (AWS JSON 1.1, as the SDK's client speaks it), for
 * code that reads its secrets by ARN; an unknown ARN is ResourceNotFoundException, as on AWS.
 */
export async function startSecretsManagerSimulator(
  secrets: Record<string, string>,
): Promise<{ url: string; arnOf(name: string): string; close(): Promise<void> }> {
  const arnOf = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbCdEf`;
  const byArn = new Map(Object.entries(secrets).map(([name, value]) => [arnOf(name), value]));
  const server = await startLoopbackServer((request, response) => {
    void (async () => {
      const body = JSON.parse((await bodyOf(request)).toString('utf8') || '{}') as { SecretId?: string };
      const reply = (status: number, value: unknown) => {
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify(value));
      };
      if (request.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
        reply(400, { __type: 'UnknownOperationException', message: 'only GetSecretValue is simulated' });
        return;
      }
      const value = byArn.get(body.SecretId ?? '');
      if (value === undefined) {
        reply(400, {
          __type: 'ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret.",
        });
        return;
      }
      reply(200, { ARN: body.SecretId, Name: body.SecretId, SecretString: value, VersionId: 'v1' });
    })();
  });
  return { url: server.url, arnOf, close: () => server.close() };
}
