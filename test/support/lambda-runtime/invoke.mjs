// One invocation of a Lambda handler as the Node.js runtime makes it, in a process of its own:
//   node invoke.mjs TASK_ROOT HANDLER RESULT_FILE   (the event on standard input)
// The handler module is loaded from TASK_ROOT by the `file.export` spec, as Lambda loads it; an error is
// reported as the runtime reports it to Step Functions: errorType is the error's `name`, nothing else.
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import process from 'node:process';
import { Buffer } from 'node:buffer';
import { pathToFileURL } from 'node:url';

const [taskRoot, spec, resultFile] = process.argv.slice(2);
const event = JSON.parse(readFileSync(0, 'utf8'));
const dot = spec.lastIndexOf('.');
const [file, exported] = [spec.slice(0, dot), spec.slice(dot + 1)];

// The runtime's global for response streaming (API Gateway's streamed /rag answers).
const STREAMING = Symbol('streaming');
globalThis.awslambda = {
  streamifyResponse: (handler) => Object.assign(handler, { [STREAMING]: true }),
  HttpResponseStream: {
    from: (stream, prelude) => Object.assign(stream, { prelude }),
  },
};

const report = (outcome) => writeFile(resultFile, JSON.stringify(outcome));
const failure = (error) => ({
  errorType: error?.name ?? typeof error,
  errorMessage: error?.message ?? String(error),
});

let handler;
try {
  const path = ['.mjs', '.js', '.cjs'].map((ext) => join(taskRoot, file + ext)).find((p) => existsSync(p));
  if (!path)
    throw Object.assign(new Error(`Cannot find module '${file}'`), { name: 'Runtime.ImportModuleError' });
  handler = (await import(pathToFileURL(path).href))[exported];
} catch (error) {
  await report(
    error?.name === 'Runtime.ImportModuleError'
      ? failure(error)
      : { ...failure(error), errorType: 'Runtime.ImportModuleError' },
  );
  process.exit(0);
}
if (typeof handler !== 'function') {
  await report({
    errorType: 'Runtime.HandlerNotFound',
    errorMessage: `${spec} is undefined or not exported`,
  });
  process.exit(0);
}
const deadline = Date.now() + Number(process.env.AWS_LAMBDA_FUNCTION_TIMEOUT ?? 30) * 1000;
const context = {
  awsRequestId: 'c0ffee00-0000-4000-8000-000000000001',
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
  memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
  logGroupName: `/aws/lambda/${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
  logStreamName: 'local',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
};
try {
  if (handler[STREAMING]) {
    const stream = new PassThrough();
    const chunks = [];
    stream.on('data', (chunk) => chunks.push(chunk));
    await handler(event, stream, context);
    await report({
      result: { prelude: stream.prelude ?? null, body: Buffer.concat(chunks).toString('utf8') },
    });
  } else {
    await report({ result: (await handler(event, context)) ?? null });
  }
} catch (error) {
  await report(failure(error));
}
// Lambda freezes the sandbox after the response; here the process ends, open sockets or not.
process.exit(0);
