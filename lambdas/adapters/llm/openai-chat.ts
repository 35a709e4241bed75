import type OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import {
  GenerationError,
  type ChatModel,
  type ChatPrompt,
  type Generation,
  type SamplingOverride,
} from '../../ports/chat-model.js';
import { createOpenAiClient, type OpenAiConnection } from './openai-client.js';

export interface OpenAiChatOptions extends OpenAiConnection {
  model: string;
  maxNewTokens: number;
  temperature: number;
  topP: number;
}

/** Any OpenAI-compatible chat model standing in for the twin (SYSTEM.md §6), plain or streamed. */
export class OpenAiChatModel implements ChatModel {
  private constructor(
    private readonly client: OpenAI,
    private readonly options: OpenAiChatOptions,
  ) {}

  static async create(options: OpenAiChatOptions): Promise<OpenAiChatModel> {
    return new OpenAiChatModel(await createOpenAiClient(options), options);
  }

  get model(): string {
    return `openai:${this.options.model}`;
  }

  async generate(prompt: ChatPrompt, signal?: AbortSignal, sampling?: SamplingOverride): Promise<Generation> {
    try {
      const completion = await this.client.chat.completions.create(this.request(prompt, sampling), {
        signal,
      });
      return {
        text: completion.choices[0]?.message.content ?? '',
        ...(completion.usage
          ? {
              usage: {
                promptTokens: completion.usage.prompt_tokens,
                completionTokens: completion.usage.completion_tokens,
              },
            }
          : {}),
      };
    } catch (error) {
      throw asGenerationError(error, this.options.model, this.client);
    }
  }

  async *stream(prompt: ChatPrompt, signal?: AbortSignal): AsyncGenerator<string, Generation> {
    let text = '';
    let usage: Generation['usage'];
    try {
      const chunks = await this.client.chat.completions.create(
        { ...this.request(prompt), stream: true, stream_options: { include_usage: true } },
        { signal },
      );
      for await (const chunk of chunks) {
        const piece = chunk.choices[0]?.delta.content ?? '';
        if (chunk.usage) {
          usage = {
            promptTokens: chunk.usage.prompt_tokens,
            completionTokens: chunk.usage.completion_tokens,
          };
        }
        if (piece === '') continue;
        text += piece;
        yield piece;
      }
    } catch (error) {
      throw asGenerationError(error, this.options.model, this.client);
    }
    return { text, ...(usage ? { usage } : {}) };
  }

  private request(prompt: ChatPrompt, sampling: SamplingOverride = {}) {
    const messages: ChatCompletionMessageParam[] = [
      { role: 'system', content: prompt.system },
      { role: 'user', content: prompt.user },
    ];
    return {
      model: this.options.model,
      messages,
      temperature: sampling.temperature ?? this.options.temperature,
      top_p: sampling.topP ?? this.options.topP,
      ...(sampling.repetitionPenalty ? { frequency_penalty: sampling.repetitionPenalty - 1 } : {}),
      ...(sampling.seed !== undefined ? { seed: sampling.seed } : {}),
      // Many OpenAI-compatible servers (vLLM, TGI) read only max_tokens, which OpenAI still accepts.
      max_tokens: this.options.maxNewTokens,
    };
  }
}

/** The SDK's error classes, from the client's own class (the SDK is imported only when a client is made). */
function sdkErrors(client: OpenAI): typeof OpenAI {
  return client.constructor as typeof OpenAI;
}

function asGenerationError(error: unknown, model: string, client: OpenAI): unknown {
  const errors = sdkErrors(client);
  if (error instanceof errors.APIConnectionTimeoutError || isAbort(error, errors)) {
    return new GenerationError(`the model ${model} did not answer in time`, 'timeout', { cause: error });
  }
  if (error instanceof errors.APIError) {
    const status = error.status === undefined ? 'no reply' : `HTTP ${String(error.status)}`;
    return new GenerationError(`the model ${model} failed (${status})`, 'upstream', { cause: error });
  }
  return error;
}

function isAbort(error: unknown, errors: typeof OpenAI): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error instanceof errors.APIUserAbortError);
}
