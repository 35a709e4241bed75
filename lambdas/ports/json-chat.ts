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
  /**
   * The reply to a prompt that asks for JSON. `shape`, a JSON Schema of the reply, lets a model that
   * can be constrained (llama.cpp's grammars) write nothing else; the caller still validates.
   */
  completeJson(prompt: string, shape?: JsonShape): Promise<JsonCompletion>;
}

/**
 * The JSON Schema subset llama.cpp's grammars take: object, array (minItems/maxItems), string
 * (maxLength), null, const, enum and oneOf.
 */
export type JsonShape = Readonly<Record<string, unknown>>;

/**
 * The provider refused the credentials (HTTP 401 or 403): every further request would be refused
 * too, so callers stop instead of spending one request per item.
 */
export class ModelAccessError extends Error {
  constructor(
    message: string,
    readonly status: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ModelAccessError';
  }
}
