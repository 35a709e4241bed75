/** Token counts of one completion, as the provider reports them. */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface JsonCompletion {
  /** The model's reply, as text (the caller parses and validates it). */
  text: string;
  usage: TokenUsage;
}

/**
 * An LLM asked for a JSON reply (dataset generation, later self-query and the judge). Adapters retry
 * rate limits and server errors themselves; what they throw is final.
 */
export interface JsonChatModel {
  readonly model: string;
  completeJson(prompt: string): Promise<JsonCompletion>;
}
