import type OpenAI from 'openai';
import { ModelAccessError, type JsonChatModel, type JsonCompletion } from '../../ports/json-chat.js';
import { createOpenAiClient, type OpenAiConnection } from './openai-client.js';

export interface OpenAiJsonOptions extends OpenAiConnection {
  model: string;
  temperature: number;
  maxTokens: number;
}

/** Any OpenAI-compatible chat API, asked for JSON (response_format json_object), through the openai client. */
export class OpenAiJsonModel implements JsonChatModel {
  private constructor(
    private readonly client: OpenAI,
    private readonly options: OpenAiJsonOptions,
  ) {}

  get model(): string {
    return this.options.model;
  }

  static async create(options: OpenAiJsonOptions): Promise<OpenAiJsonModel> {
    return new OpenAiJsonModel(await createOpenAiClient(options), options);
  }

  async completeJson(prompt: string): Promise<JsonCompletion> {
    const completion = await refusedAccessAsError(() =>
      this.client.chat.completions.create({
        model: this.options.model,
        messages: [{ role: 'user', content: prompt }],
        response_format: { type: 'json_object' },
        temperature: this.options.temperature,
        // OpenAI prefers max_completion_tokens, but many OpenAI-compatible servers (vLLM, TGI, ...) still
        // read only max_tokens, which OpenAI also accepts for these models.
        // eslint-disable-next-line @typescript-eslint/no-deprecated
        max_tokens: this.options.maxTokens,
      }),
    );
    return {
      text: completion.choices[0]?.message.content ?? '',
      usage: {
        promptTokens: completion.usage?.prompt_tokens ?? 0,
        completionTokens: completion.usage?.completion_tokens ?? 0,
      },
    };
  }
}

/** A 401 or 403 from the provider becomes the port's ModelAccessError (naming the settings to check). */
async function refusedAccessAsError<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    const status =
      typeof error === 'object' && error !== null && 'status' in error ? error.status : undefined;
    if (status === 401 || status === 403) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ModelAccessError(
        `the model provider refused the request (HTTP ${String(status)}: ${reason}); check OPENAI_API_KEY and OPENAI_BASE_URL`,
        status,
        { cause: error },
      );
    }
    throw error;
  }
}
