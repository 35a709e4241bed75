import {
  GenerationError,
  type ChatModel,
  type ChatPrompt,
  type Generation,
  type PromptBudget,
  type SamplingOverride,
} from '../../../ports/chat-model.js';
import type { Completion, LocalLlm, Sampling } from './local-llm.js';
import type { LocalLlmLease } from './shared.js';

export interface LlamaCppChatOptions extends Omit<Sampling, 'maxTokens'> {
  maxNewTokens: number;
  timeoutMs: number;
  /** A lower input budget than the model's context allows (TWIN_GENERATION_MAX_INPUT_TOKENS). */
  maxInputTokens?: number;
}

/** The twin written by a GGUF model in this process (llama.cpp), plain or streamed. */
export class LlamaCppChatModel implements ChatModel {
  readonly promptBudget: PromptBudget;
  private readonly llm: LocalLlm;

  constructor(
    private readonly lease: LocalLlmLease,
    private readonly options: LlamaCppChatOptions,
  ) {
    const llm = lease.llm;
    this.llm = llm;
    const fits = llm.inputBudget(options.maxNewTokens);
    this.promptBudget = {
      maxInputTokens: Math.min(fits, options.maxInputTokens ?? fits),
      countTokens: llm.countTokens,
    };
  }

  get model(): string {
    return `local:${this.llm.name}`;
  }

  async generate(prompt: ChatPrompt, signal?: AbortSignal, sampling?: SamplingOverride): Promise<Generation> {
    const limit = this.limit(signal);
    try {
      return asGeneration(await this.llm.complete(prompt, { ...this.sampling, ...sampling, signal: limit }));
    } catch (error) {
      throw this.asGenerationError(error, limit);
    }
  }

  async *stream(prompt: ChatPrompt, signal?: AbortSignal): AsyncGenerator<string, Generation> {
    // Stops generation when the reader stops reading (a closed connection), not only on the signal.
    const readerGone = new AbortController();
    const limit = AbortSignal.any([this.limit(signal), readerGone.signal]);
    const pieces: string[] = [];
    let wake: (() => void) | undefined;
    let outcome: { completion: Completion } | { error: unknown } | undefined;
    const running = this.llm
      .complete(prompt, {
        ...this.sampling,
        signal: limit,
        onText: (text) => {
          pieces.push(text);
          wake?.();
        },
      })
      .then(
        (completion) => (outcome = { completion }),
        (error: unknown) => (outcome = { error }),
      )
      .finally(() => wake?.());
    try {
      for (;;) {
        const piece = pieces.shift();
        if (piece !== undefined) {
          if (piece !== '') yield piece;
          continue;
        }
        if (outcome) break;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
      if ('error' in outcome) throw this.asGenerationError(outcome.error, limit);
      return asGeneration(outcome.completion);
    } finally {
      if (!outcome) {
        readerGone.abort(new Error('the reader stopped reading'));
        await running;
      }
    }
  }

  close(): Promise<void> {
    return this.lease.release();
  }

  private get sampling() {
    const { temperature, topP, repetitionPenalty, maxNewTokens, seed } = this.options;
    return {
      temperature,
      topP,
      repetitionPenalty,
      maxTokens: maxNewTokens,
      ...(seed !== undefined ? { seed } : {}),
    };
  }

  private limit(signal?: AbortSignal): AbortSignal {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    return signal ? AbortSignal.any([signal, timeout]) : timeout;
  }

  private asGenerationError(error: unknown, limit: AbortSignal): unknown {
    if (limit.aborted) {
      return new GenerationError(`the model ${this.model} did not answer in time`, 'timeout', {
        cause: error,
      });
    }
    return error;
  }
}

function asGeneration(completion: Completion): Generation {
  return {
    text: completion.text,
    usage: { promptTokens: completion.promptTokens, completionTokens: completion.completionTokens },
  };
}
