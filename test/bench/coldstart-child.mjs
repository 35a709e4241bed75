/* global Buffer, console, performance, process */
// One cold start of the RAG function, in a fresh Node process: imports the handler bundle built as the
// container image builds it, then sends two retrieve-only requests, as Lambda would after a cold start.
// Plain JavaScript on purpose: no TypeScript loader may add to the module-load time.
import { Writable } from 'node:stream';

// What the Lambda Node.js runtime provides for response streaming: a handler marked for streaming gets
// a writable stream; an HTTP reply is its JSON prelude, eight NUL bytes, then the body.
globalThis.awslambda = {
  streamifyResponse: (handler) => handler,
  HttpResponseStream: {
    from(stream, prelude) {
      stream.write(JSON.stringify(prelude));
      stream.write(Buffer.alloc(8));
      return stream;
    },
  },
};

const bundle = process.argv[2];
const importStarted = performance.now();
const { handler } = await import(bundle);
const moduleMs = performance.now() - importStarted;

const event = {
  httpMethod: 'POST',
  path: '/rag',
  resource: '/rag',
  headers: { 'content-type': 'application/json' },
  multiValueHeaders: {},
  queryStringParameters: null,
  multiValueQueryStringParameters: null,
  pathParameters: null,
  stageVariables: null,
  requestContext: { requestId: 'bench', identity: { sourceIp: '127.0.0.1' } },
  body: JSON.stringify({
    query: 'How do I deploy an LLM to a SageMaker endpoint that scales with traffic?',
    retrieve_only: true,
    expand: false,
  }),
  isBase64Encoded: false,
};
const context = {
  functionName: 'llm-twin-rag-bench',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:llm-twin-rag-bench',
  memoryLimitInMB: '3008',
  awsRequestId: 'bench',
  logGroupName: '/aws/lambda/llm-twin-rag-bench',
  logStreamName: 'bench',
  getRemainingTimeInMillis: () => 30_000,
};

async function invoke() {
  const chunks = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  const started = performance.now();
  await handler(event, stream, context);
  const reply = Buffer.concat(chunks);
  const split = reply.indexOf(Buffer.alloc(8));
  const prelude = JSON.parse(reply.subarray(0, split).toString('utf8'));
  const body = JSON.parse(reply.subarray(split + 8).toString('utf8'));
  return {
    ms: performance.now() - started,
    status: prelude.statusCode,
    sources: body.sources?.length ?? 0,
    flags: body.flags ?? [],
  };
}

const first = await invoke();
// Since the process started (Node's performance clock starts with the process).
const firstAnswerMs = performance.now();
const second = await invoke();
console.log(JSON.stringify({ bench: { moduleMs, first, firstAnswerMs, second } }));
