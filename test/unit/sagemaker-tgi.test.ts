import {
  InvokeEndpointCommand,
  InvokeEndpointWithResponseStreamCommand,
  ModelError,
  SageMakerRuntimeClient,
  type ResponseStream,
  ValidationError,
} from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { LineSplitter, SageMakerTgiModel } from '../../lambdas/adapters/llm/sagemaker-tgi.js';
import { formatTwinPrompt } from '../../lambdas/adapters/llm/twin-prompt.js';
import { GenerationError } from '../../lambdas/ports/chat-model.js';
import { collect } from '../support/async.js';

const runtime = mockClient(SageMakerRuntimeClient);
const prompt = { system: 'Write as the author.', user: 'Request: a post about RAG\n\nContext:\n[1] ...' };
const options = {
  endpointName: 'llm-twin-dev',
  maxNewTokens: 150,
  temperature: 0.01,
  topP: 0.9,
  repetitionPenalty: 1.1,
  timeoutMs: 2_000,
};
const model = () => new SageMakerTgiModel(new SageMakerRuntimeClient({ region: 'eu-west-1' }), options);
const bytes = (text: string) => new TextEncoder().encode(text);

/** TGI's server-sent events for these tokens, then the final event with the whole text. */
function tgiEvents(tokens: string[]): string {
  const events = tokens.map(
    (text, id) =>
      `data:${JSON.stringify({ token: { id, text, special: false }, generated_text: null, details: null })}\n\n`,
  );
  events.push(
    `data:${JSON.stringify({ token: { id: 99, text: '</s>', special: true }, generated_text: tokens.join(''), details: null })}\n\n`,
  );
  return events.join('');
}

/** The event stream cut into payload parts at the given byte offsets, as SageMaker may cut it. */
function payloadParts(data: Uint8Array, cuts: number[]): AsyncIterable<ResponseStream> {
  const bounds = [0, ...cuts, data.length];
  return asStream(bounds.slice(1).map((end, i) => ({ PayloadPart: { Bytes: data.slice(bounds[i], end) } })));
}

async function* asStream(parts: ResponseStream[]): AsyncGenerator<ResponseStream> {
  for (const part of parts) yield await Promise.resolve(part);
}

const bodyOf = (input: { Body?: unknown } | undefined): unknown =>
  JSON.parse(
    new TextDecoder().decode(
      typeof input?.Body === 'string' ? bytes(input.Body) : (input?.Body as Uint8Array),
    ),
  );

describe('the SageMaker TGI chat model', () => {
  afterEach(() => runtime.reset());

  it('sends the TGI payload of the book and reads [0].generated_text', async () => {
    runtime.on(InvokeEndpointCommand).resolves({
      Body: bytes(JSON.stringify([{ generated_text: 'RAG is retrieval, then generation.' }])) as never,
    });
    const generation = await model().generate(prompt);
    expect(generation.text).toBe('RAG is retrieval, then generation.');
    const call = runtime.commandCalls(InvokeEndpointCommand)[0]?.args[0].input;
    expect(call?.EndpointName).toBe('llm-twin-dev');
    expect(bodyOf(call)).toEqual({
      inputs: formatTwinPrompt(prompt),
      parameters: {
        max_new_tokens: 150,
        top_p: 0.9,
        temperature: 0.01,
        repetition_penalty: 1.1,
        return_full_text: false,
      },
    });
  });

  it('lays the prompt out as the twin was fine-tuned: instruction, then response', () => {
    expect(formatTwinPrompt(prompt)).toMatch(
      /### Instruction:\nWrite as the author\.\n\nRequest: a post about RAG[\s\S]*\n\n### Response:\n$/u,
    );
  });

  it('streams tokens from events split anywhere across payload parts, even inside a character', async () => {
    const tokens = ['Réponse', ' en', ' français', ' — ', 'naïve', ' ✓'];
    const data = bytes(tgiEvents(tokens));
    // Cut every 7 bytes: inside "data:", inside JSON, inside multi-byte characters.
    const cuts = Array.from({ length: Math.floor(data.length / 7) }, (_, i) => (i + 1) * 7).filter(
      (cut) => cut < data.length,
    );
    runtime.on(InvokeEndpointWithResponseStreamCommand).resolves({ Body: payloadParts(data, cuts) });

    const stream = model().stream(prompt);
    const pieces = await collect(stream);
    expect(pieces).toEqual(tokens);
    const request = runtime.commandCalls(InvokeEndpointWithResponseStreamCommand)[0]?.args[0].input;
    expect(bodyOf(request)).toMatchObject({
      stream: true,
      parameters: { max_new_tokens: 150 },
    });
  });

  it('returns the whole streamed answer as the generator result', async () => {
    runtime.on(InvokeEndpointWithResponseStreamCommand).resolves({
      Body: payloadParts(bytes(tgiEvents(['One', ' two'])), []),
    });
    const stream = model().stream(prompt);
    let next = await stream.next();
    while (!next.done) next = await stream.next();
    expect(next.value).toEqual({ text: 'One two' });
  });

  it('names the inference component on every call when the twin is hosted as one', async () => {
    runtime.on(InvokeEndpointCommand).resolves({
      Body: bytes(JSON.stringify([{ generated_text: 'Hi.' }])) as never,
    });
    runtime.on(InvokeEndpointWithResponseStreamCommand).resolves({
      Body: payloadParts(bytes(tgiEvents(['Hi.'])), []),
    });
    const twin = new SageMakerTgiModel(new SageMakerRuntimeClient({ region: 'eu-west-1' }), {
      ...options,
      inferenceComponentName: 'llm-twin-dev-twin',
    });
    await twin.generate(prompt);
    await collect(twin.stream(prompt));
    const target = { EndpointName: 'llm-twin-dev', InferenceComponentName: 'llm-twin-dev-twin' };
    expect(runtime.commandCalls(InvokeEndpointCommand)[0]?.args[0].input).toMatchObject(target);
    expect(runtime.commandCalls(InvokeEndpointWithResponseStreamCommand)[0]?.args[0].input).toMatchObject(
      target,
    );
    expect(twin.model).toBe('sagemaker:llm-twin-dev/llm-twin-dev-twin');
  });

  it('says a twin scaled to zero is starting, apart from other validation errors', async () => {
    runtime
      .on(InvokeEndpointCommand)
      .rejectsOnce(
        new ValidationError({
          message:
            'Inference Component has no capacity to process this request. ApplicationAutoScaling may be in-progress.',
          $metadata: {},
        }),
      )
      .rejectsOnce(new ValidationError({ message: 'Endpoint llm-twin-dev not found.', $metadata: {} }));
    await expect(model().generate(prompt)).rejects.toMatchObject({ kind: 'starting' });
    await expect(model().generate(prompt)).rejects.toMatchObject({ kind: 'upstream' });
  });

  it('turns a model error mid-stream into an upstream generation error', async () => {
    const failing = asStream([
      { PayloadPart: { Bytes: bytes(`${tgiEvents(['Half']).split('\n\n')[0] ?? ''}\n\n`) } },
      {
        ModelStreamError: Object.assign(new Error('CUDA out of memory'), {
          name: 'ModelStreamError',
          ErrorCode: '500',
        }) as never,
      },
    ]);
    runtime.on(InvokeEndpointWithResponseStreamCommand).resolves({ Body: failing });
    const error = await collect(model().stream(prompt)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GenerationError);
    expect(error).toMatchObject({ kind: 'upstream' });
    expect((error as Error).message).toContain('CUDA out of memory');
  });

  it('reports a failing endpoint as upstream, without its internals', async () => {
    runtime
      .on(InvokeEndpointCommand)
      .rejects(new ModelError({ message: 'Received server error (500) from primary', $metadata: {} }));
    await expect(model().generate(prompt)).rejects.toMatchObject({
      name: 'GenerationError',
      kind: 'upstream',
      message: 'sagemaker:llm-twin-dev failed (ModelError)',
    });
  });

  it('gives up after the timeout and says so', async () => {
    runtime.on(InvokeEndpointCommand).callsFake(
      () =>
        new Promise((_resolve, reject) => {
          setTimeout(() => {
            reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
          }, 300);
        }),
    );
    const slow = new SageMakerTgiModel(new SageMakerRuntimeClient({ region: 'eu-west-1' }), {
      ...options,
      timeoutMs: 100,
    });
    const started = Date.now();
    await expect(slow.generate(prompt)).rejects.toMatchObject({ kind: 'timeout' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
  });

  it('rejects a reply without generated text', async () => {
    runtime
      .on(InvokeEndpointCommand)
      .resolves({ Body: bytes('{"error":"Input validation error"}') as never });
    await expect(model().generate(prompt)).rejects.toMatchObject({ kind: 'upstream' });
  });
});

describe('the line splitter', () => {
  it('joins lines cut across chunks and keeps a last line without a newline', () => {
    const splitter = new LineSplitter();
    expect(splitter.push(bytes('data:{"a"'))).toEqual([]);
    expect(splitter.push(bytes(':1}\n\ndata:'))).toEqual(['data:{"a":1}', '']);
    expect(splitter.push(bytes('{"b":2}'))).toEqual([]);
    expect(splitter.end()).toEqual(['data:{"b":2}']);
  });
});
