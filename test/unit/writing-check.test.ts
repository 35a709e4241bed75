import { describe, expect, it } from 'vitest';
import type { ChatModel, ChatPrompt, Generation, SamplingOverride } from '../../lambdas/ports/chat-model.js';
import type { ContextRetriever } from '../../lambdas/rag/retriever.js';
import { LOOP_BREAKING_SAMPLING, RagService } from '../../lambdas/rag/service.js';
import { notWriting } from '../../lambdas/rag/writing-check.js';

const PROSE = [
  'Retrieval-augmented generation keeps a model honest by handing it the passages it should lean on.',
  'The trick is in the chunking: windows that are too small lose the argument, windows too large bury it.',
  'I start with 256 tokens and an overlap of 50, then measure recall before I touch anything else.',
].join(' ');

describe('what is not writing', () => {
  it('passes ordinary prose, a real list and a short honest answer', () => {
    expect(notWriting(PROSE)).toBeUndefined();
    expect(
      notWriting('Three steps:\n1. Clean the text.\n2. Chunk it.\n3. Embed every chunk.'),
    ).toBeUndefined();
    expect(notWriting('The context does not cover this request.')).toBeUndefined();
  });

  it.each([
    ['', 'empty'],
    ['   \n ', 'empty'],
    ['1.\n2.\n3.\n4.\n5.\n6.', 'empty-list'],
    ['Here it is:\n-\n-\n-\n-', 'empty-list'],
    ['<start_of_turn>model\nSure, here is a post', 'template-tokens'],
    ['Great question!<|im_end|>', 'template-tokens'],
    ['### Response:\nRAG is good', 'template-tokens'],
    [
      'Read on.\n\n[1] articles on decodingml.substack.com by Paul Iusztin (https://x.example/p)',
      'template-tokens',
    ],
    ['the model the model the model '.repeat(20), 'repetition-loop'],
    [`${PROSE}\n${'Consultive your partice data performatic.\n'.repeat(5)}`, 'repetition-loop'],
    ['[1] [2] [3]', 'no-prose'],
  ])('%j is %s', (answer, reason) => {
    expect(notWriting(answer)).toBe(reason);
  });
});

/** A twin that answers from a script and records the sampling each call asked for. */
function scriptedTwin(replies: string[]): ChatModel & { sampling: (SamplingOverride | undefined)[] } {
  const sampling: (SamplingOverride | undefined)[] = [];
  return {
    model: 'test:scripted',
    sampling,
    generate(_prompt: ChatPrompt, _signal?: AbortSignal, override?: SamplingOverride): Promise<Generation> {
      sampling.push(override);
      return Promise.resolve({ text: replies[sampling.length - 1] ?? '' });
    },
    async *stream(): AsyncGenerator<string, Generation> {
      const text = await Promise.resolve(replies[0] ?? '');
      yield text;
      return { text };
    },
  };
}

const noRetrieval: Pick<ContextRetriever, 'retrieve'> = {
  retrieve: (query, options) =>
    Promise.resolve({
      chunks: [],
      author: { source: 'none' },
      queries: [query],
      mode: options.mode,
      candidates: 0,
      reranked: false,
    }),
};

function serviceWith(generator: ChatModel): RagService {
  return new RagService({
    retriever: noRetrieval,
    generator,
    defaults: {
      k: 3,
      expand: false,
      queries: 1,
      rerank: false,
      mode: 'hybrid',
      fusion: 'rrf',
      fusionK: 60,
      fusionAlpha: 0.5,
      maxQueryChars: 500,
    },
    maxInputTokens: 4000,
    countTokens: (text) => text.length,
    sinks: [],
    secrets: [],
  });
}

describe('the answer guard for writing', () => {
  it('writes a looping answer again with loop-breaking sampling and serves the second, flagged', async () => {
    const twin = scriptedTwin(['1.\n2.\n3.\n4.', PROSE]);
    const reply = await serviceWith(twin).answer({ query: 'Write about chunking' });
    expect(reply.answer).toBe(PROSE);
    expect(reply.flags).toContain('answer-rewritten:empty-list');
    expect(twin.sampling).toEqual([undefined, LOOP_BREAKING_SAMPLING]);
  });

  it('keeps the first answer and says it is not writing when the second is not either', async () => {
    const twin = scriptedTwin(['', 'the the the the '.repeat(30)]);
    const reply = await serviceWith(twin).answer({ query: 'Write about chunking' });
    expect(reply.answer).toBe('');
    expect(reply.flags).toContain('answer-not-writing:empty');
  });

  it('asks once when the first answer is writing', async () => {
    const twin = scriptedTwin([PROSE]);
    const reply = await serviceWith(twin).answer({ query: 'Write about chunking' });
    expect(reply.flags.filter((flag) => flag.startsWith('answer-'))).toEqual([]);
    expect(twin.sampling).toHaveLength(1);
  });

  it('flags a streamed answer that is not writing (what was sent cannot be taken back)', async () => {
    const twin = scriptedTwin(['<end_of_turn>']);
    const events = [];
    for await (const event of serviceWith(twin).stream({ query: 'Write about chunking' })) events.push(event);
    const done = events.at(-1);
    expect(done?.type).toBe('done');
    expect(done?.type === 'done' ? done.data.flags : []).toContain('answer-not-writing:template-tokens');
  });
});
