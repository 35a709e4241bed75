import type { AuthorScope } from '../access/scope.js';
import type { RetrievalMode } from '../domain/index.js';
import type { ChatModel, ChatPrompt, Generation, SamplingOverride } from '../ports/chat-model.js';
import type { PriorTurn } from './follow-up.js';
import type { RequestTrace, TraceSink } from '../ports/request-trace.js';
import { AnswerGuard, checkQuery } from './guardrails.js';
import { buildPrompt, TWIN_INSTRUCTION, type BuiltPrompt, type TokenCounter } from './prompt.js';
import type { ContextRetriever, RankedChunk, Retrieval, RetrievalOptions } from './retriever.js';
import type { RagAnswer, RagEvent, Source } from './contract.js';
import { TraceRecorder } from './trace.js';
import { notWriting, notWritingFlag, rewrittenFlag } from './writing-check.js';

/**
 * The second try at an answer that was not writing: sampling instead of (near-)greedy decoding, and a
 * stronger repetition penalty, the two settings that break a loop a small model fell into. Seeded, so
 * the same request is rewritten the same way (evaluations repeat).
 */
export const LOOP_BREAKING_SAMPLING: SamplingOverride = {
  temperature: 0.7,
  topP: 0.9,
  repetitionPenalty: 1.3,
  seed: 1,
};

export type { RagAnswer, RagEvent, Source } from './contract.js';

export interface RagRequest {
  /** What the user asked; the prompt carries it as is. */
  query: string;
  /** A standalone query for retrieval, when `query` follows earlier turns (follow-up.ts). */
  retrievalQuery?: string;
  /** The conversation's earlier exchanges, oldest first, for the prompt. */
  history?: readonly PriorTurn[];
  k?: number;
  expand?: boolean;
  rerank?: boolean;
  /** How chunks are searched: hybrid (the default), dense or lexical. */
  mode?: RetrievalMode;
  author?: string;
  /** Stop after retrieval: the sources, no answer. */
  retrieveOnly?: boolean;
  /** The authors the caller may use (every one when absent), and who the caller is, for the trace. */
  scope?: AuthorScope;
  principal?: string;
}

export interface RagServiceOptions {
  retriever: Pick<ContextRetriever, 'retrieve'>;
  /** The twin; without one only retrieval runs and answers are null. */
  generator?: ChatModel;
  defaults: Omit<RetrievalOptions, 'author'> & { maxQueryChars: number };
  maxInputTokens: number;
  countTokens: TokenCounter;
  sinks: readonly TraceSink[];
  /** Secret values that must never appear in an answer. */
  secrets: readonly string[];
  /** Makes a follow-up standalone (the query model); without it, the topic is carried (follow-up.ts). */
  rewriteFollowUp?: (query: string, history: readonly PriorTurn[]) => Promise<string | undefined>;
  onSinkError?: (error: unknown) => void;
}

interface Prepared {
  trace: TraceRecorder;
  retrieval: Retrieval;
  built?: BuiltPrompt;
}

/** The twin's RAG service: guardrails, retrieval, prompt, generation, answer guard, tracing. */
export class RagService {
  constructor(private readonly options: RagServiceOptions) {}

  get generates(): boolean {
    return this.options.generator !== undefined;
  }

  async answer(request: RagRequest, signal?: AbortSignal): Promise<RagAnswer> {
    const prepared = await this.prepare(request);
    const { trace, built } = prepared;
    const generator = this.options.generator;
    if (!built || !generator) return this.complete(prepared, null);
    try {
      const written = await this.write(generator, built.prompt, built.promptTokens, trace, signal);
      return await this.complete(prepared, written);
    } catch (error) {
      await this.fail(trace, error);
      throw error;
    }
  }

  async *stream(request: RagRequest, signal?: AbortSignal): AsyncGenerator<RagEvent> {
    const prepared = await this.prepare(request);
    const { trace, built } = prepared;
    const { answer: _answer, timings: _timings, ...retrieval } = this.response(prepared, null);
    yield { type: 'retrieval', data: retrieval };
    const generator = this.options.generator;
    if (!built || !generator) {
      yield { type: 'done', data: await this.complete(prepared, null) };
      return;
    }
    const guard = this.guard();
    const started = performance.now();
    let text = '';
    try {
      const pieces = generator.stream(built.prompt, signal);
      let next = await pieces.next();
      while (!next.done) {
        const safe = guard.push(next.value);
        if (safe !== '') {
          text += safe;
          yield { type: 'token', data: { text: safe } };
        }
        next = await pieces.next();
      }
      const { rest, redactions } = guard.end();
      if (rest !== '') {
        text += rest;
        yield { type: 'token', data: { text: rest } };
      }
      if (redactions > 0) trace.flags.add(`answer-redacted:${String(redactions)}`);
      // What was streamed cannot be taken back: an answer that is not writing is flagged, never silently.
      const reason = notWriting(text);
      if (reason) trace.flags.add(notWritingFlag(reason));
      trace.record({
        name: 'generation',
        durationMs: Math.round(performance.now() - started),
        input: { model: generator.model, prompt_tokens: built.promptTokens, streamed: true },
        output: usageOf(next.value),
      });
    } catch (error) {
      trace.record({
        name: 'generation',
        durationMs: Math.round(performance.now() - started),
        input: { model: generator.model, prompt_tokens: built.promptTokens, streamed: true },
        output: { error: error instanceof Error ? error.message : String(error) },
      });
      await this.fail(trace, error);
      throw error;
    }
    yield { type: 'done', data: await this.complete(prepared, text) };
  }

  /**
   * The answer, cleaned by the answer guard. One that is not writing (nothing, a loop, an empty list,
   * template tokens) is written once more with loop-breaking sampling; if the second is writing it is
   * the answer (flagged as rewritten), otherwise the first stands, flagged as not writing.
   */
  private async write(
    generator: ChatModel,
    prompt: ChatPrompt,
    promptTokens: number,
    trace: TraceRecorder,
    signal?: AbortSignal,
  ): Promise<string> {
    const attempt = async (name: string, sampling?: SamplingOverride) => {
      const generation = await trace.step(
        name,
        { model: generator.model, prompt_tokens: promptTokens, ...(sampling ? { sampling } : {}) },
        () => generator.generate(prompt, signal, sampling),
        (result) => usageOf(result),
      );
      const cleaned = this.guard().clean(generation.text);
      return { ...cleaned, reason: notWriting(cleaned.text) };
    };
    let answer = await attempt('generation');
    const first = answer.reason;
    if (first) {
      const second = await attempt('generation_retry', LOOP_BREAKING_SAMPLING);
      if (!second.reason) {
        trace.flags.add(rewrittenFlag(first));
        answer = second;
      } else trace.flags.add(notWritingFlag(first));
    }
    if (answer.redactions > 0) trace.flags.add(`answer-redacted:${String(answer.redactions)}`);
    return answer.text;
  }

  private async prepare(request: RagRequest): Promise<Prepared> {
    const { defaults } = this.options;
    const checked = checkQuery(request.query, defaults.maxQueryChars);
    const trace = new TraceRecorder(checked.query, request.principal ? { principal: request.principal } : {});
    for (const flag of checked.flags) trace.flags.add(flag);
    const options: RetrievalOptions = {
      k: request.k ?? defaults.k,
      expand: request.expand ?? defaults.expand,
      queries: defaults.queries,
      rerank: request.rerank ?? defaults.rerank,
      mode: request.mode ?? defaults.mode,
      fusion: defaults.fusion,
      fusionK: defaults.fusionK,
      fusionAlpha: defaults.fusionAlpha,
      ...(request.author ? { author: request.author } : {}),
      ...(request.scope ? { scope: request.scope } : {}),
    };
    try {
      const retrievalQuery = await this.standalone(request, checked.query, trace);
      const retrieval = await this.options.retriever.retrieve(retrievalQuery, options, trace);
      if (request.retrieveOnly || !this.options.generator) return { trace, retrieval };
      trace.models.generator = this.options.generator.model;
      const built = await trace.step(
        'prompt',
        { chunks: retrieval.chunks.length, max_input_tokens: this.options.maxInputTokens },
        () =>
          Promise.resolve(
            buildPrompt(
              checked.query,
              retrieval.chunks,
              { maxInputTokens: this.options.maxInputTokens, countTokens: this.options.countTokens },
              request.history ?? [],
            ),
          ),
        (result) => ({
          prompt_tokens: result.promptTokens,
          earlier_turns: result.turnsIncluded,
          included: result.included.map((chunk) => chunk.id),
          dropped: result.dropped.map((chunk) => chunk.id),
        }),
      );
      return { trace, retrieval, built };
    } catch (error) {
      await this.fail(trace, error);
      throw error;
    }
  }

  /**
   * The query retrieval runs: the request, or for a follow-up its standalone rewrite (by the query
   * model when there is one, else the request carried with the conversation's topic), in the trace.
   */
  private async standalone(request: RagRequest, query: string, trace: TraceRecorder): Promise<string> {
    const carried = request.retrievalQuery;
    const history = request.history ?? [];
    if (history.length === 0 && (carried === undefined || carried === query)) return query;
    const { maxQueryChars } = this.options.defaults;
    const rewrite = this.options.rewriteFollowUp;
    const result = await trace.step(
      'rewrite',
      { query, earlier_turns: history.length },
      async () => {
        const byModel = rewrite && history.length > 0 ? await rewrite(query, history) : undefined;
        const chosen = byModel ?? carried ?? query;
        return {
          query: checkQuery(chosen, maxQueryChars).query,
          by: byModel ? 'query model' : 'carried topic',
        };
      },
      (standalone) => standalone,
    );
    return result.query;
  }

  private guard(): AnswerGuard {
    return new AnswerGuard({ secrets: this.options.secrets, systemPrompt: TWIN_INSTRUCTION });
  }

  private response(prepared: Prepared, answer: string | null): RagAnswer {
    const { trace, retrieval, built } = prepared;
    const used = built ? built.included : retrieval.chunks;
    return {
      answer,
      sources: used.map((chunk, index) => toSource(chunk, index + 1)),
      author: {
        id: retrieval.author.authorId ?? null,
        name: retrieval.author.authorName ?? null,
        source: retrieval.author.source,
      },
      queries: retrieval.queries,
      mode: retrieval.mode,
      trace_id: trace.traceId,
      timings: trace.timings(),
      flags: [...trace.flags],
    };
  }

  private async complete(prepared: Prepared, answer: string | null): Promise<RagAnswer> {
    const response = this.response(prepared, answer);
    await this.emit(prepared.trace.finish(answer === null ? {} : { answer }));
    return response;
  }

  private async fail(trace: TraceRecorder, error: unknown): Promise<void> {
    await this.emit(trace.finish({ error: error instanceof Error ? error.message : String(error) }));
  }

  private async emit(trace: RequestTrace): Promise<void> {
    await Promise.all(
      this.options.sinks.map(async (sink) => {
        try {
          await sink.record(trace);
        } catch (error) {
          this.options.onSinkError?.(error);
        }
      }),
    );
  }
}

function usageOf(generation: Generation): Record<string, unknown> {
  return generation.usage
    ? { prompt_tokens: generation.usage.promptTokens, completion_tokens: generation.usage.completionTokens }
    : {};
}

const EXCERPT_CHARS = 280;

export function toSource(chunk: RankedChunk, rank: number): Source {
  return {
    rank,
    chunk_id: chunk.id,
    title: titleOf(chunk),
    link: chunk.link ?? null,
    platform: chunk.platform,
    category: chunk.category,
    author: chunk.authorFullName,
    score: Math.round(chunk.score * 10_000) / 10_000,
    excerpt:
      chunk.original.length > EXCERPT_CHARS
        ? `${chunk.original.slice(0, EXCERPT_CHARS).trimEnd()}…`
        : chunk.original,
  };
}

/**
 * A readable title for a source: the article's crawled title, else the repository name, else the
 * last meaningful segment of the link ("the-new-king-of-iac" → "The new king of iac").
 */
export function titleOf(
  chunk: Pick<RankedChunk, 'title' | 'name' | 'link' | 'platform' | 'category'>,
): string {
  if (chunk.title) return chunk.title;
  if (chunk.name) return chunk.name;
  if (chunk.link) {
    try {
      const segments = new URL(chunk.link).pathname.split('/').filter(Boolean);
      const slug = decodeURIComponent(segments.at(-1) ?? '').replace(/-[0-9a-f]{8,}$/u, '');
      const words = slug.replace(/[-_]+/gu, ' ').trim();
      if (words !== '') return words.charAt(0).toUpperCase() + words.slice(1);
    } catch {
      // not a URL: fall through
    }
  }
  return `${chunk.category} on ${chunk.platform}`;
}
