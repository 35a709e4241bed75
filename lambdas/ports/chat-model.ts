import type { TokenUsage } from './json-chat.js';

/** What the twin is asked: our instruction (system) and the user's turn with the retrieved context. */
export interface ChatPrompt {
  system: string;
  user: string;
}

/**
 * Sampling for one request in place of the model's configured sampling, where the provider has the
 * setting (the answer guard's second try: sampling that breaks a repetition loop).
 */
export interface SamplingOverride {
  temperature?: number;
  topP?: number;
  /** llama.cpp's and TGI's repetition penalty; OpenAI-compatible APIs get frequency_penalty = this - 1. */
  repetitionPenalty?: number;
  /** Fixes the sampler's randomness where the provider takes a seed: the same request, the same answer. */
  seed?: number;
}

export interface Generation {
  text: string;
  /** Token counts when the provider reports them (TGI's plain endpoint does not). */
  usage?: TokenUsage;
}

/**
 * The model that writes in the author's voice: the fine-tuned twin on a SageMaker endpoint, or any
 * OpenAI-compatible model standing in for it. Adapters throw GenerationError for provider failures.
 */
export interface ChatModel {
  /** Provider and model, for traces ("sagemaker:llm-twin-dev", "openai:gpt-4o-mini"). */
  readonly model: string;
  generate(prompt: ChatPrompt, signal?: AbortSignal, sampling?: SamplingOverride): Promise<Generation>;
  /** The answer in pieces as they are written; the generator's return value is the whole answer. */
  stream(prompt: ChatPrompt, signal?: AbortSignal): AsyncGenerator<string, Generation>;
  /**
   * The prompt size this model reads, counted by its own tokenizer, when the adapter has it (a model
   * in process); without it the caller estimates from the configured budget.
   */
  readonly promptBudget?: PromptBudget;
  /** Frees what the model holds (a model in process); remote models hold nothing. */
  close?(): Promise<void>;
}

export interface PromptBudget {
  maxInputTokens: number;
  countTokens: (text: string) => number;
}

/**
 * The model could not answer. `timeout` when it took longer than allowed (HTTP 504 at the API),
 * `upstream` for an error reply or a broken connection (502), `starting` when it has no capacity yet,
 * as when an endpoint scaled to zero is waking up (503). The message is safe to show a caller.
 */
export class GenerationError extends Error {
  constructor(
    message: string,
    readonly kind: 'timeout' | 'upstream' | 'starting',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GenerationError';
  }
}
