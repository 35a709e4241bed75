import type { LlamaGrammar } from 'node-llama-cpp';
import type { JsonChatModel, JsonCompletion, JsonShape } from '../../../ports/json-chat.js';
import type { LocalLlm } from './local-llm.js';

export interface LlamaCppJsonOptions {
  maxTokens: number;
  timeoutMs: number;
  /** Above 1 discourages the loops a small model falls into when it writes free text (default 1: none). */
  repetitionPenalty?: number;
}

/**
 * The local model asked for JSON (self-query, query expansion), constrained by a grammar built from
 * the reply's schema, so even a small model writes JSON of that shape. Greedy: the same request
 * gets the same reply.
 */
export class LlamaCppJsonModel implements JsonChatModel {
  /** One grammar per schema, built once (building one compiles it). */
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();

  constructor(
    private readonly llm: LocalLlm,
    private readonly options: LlamaCppJsonOptions,
  ) {}

  get model(): string {
    return `local:${this.llm.name}`;
  }

  async completeJson(prompt: string, shape?: JsonShape): Promise<JsonCompletion> {
    const grammar = shape ? await this.grammarFor(shape) : undefined;
    const completion = await this.llm.complete(
      { system: '', user: prompt },
      {
        maxTokens: this.options.maxTokens,
        temperature: 0,
        topP: 1,
        repetitionPenalty: this.options.repetitionPenalty ?? 1,
        signal: AbortSignal.timeout(this.options.timeoutMs),
        ...(grammar ? { grammar } : {}),
      },
    );
    return {
      text: completion.text,
      usage: { promptTokens: completion.promptTokens, completionTokens: completion.completionTokens },
    };
  }

  private grammarFor(shape: JsonShape): Promise<LlamaGrammar> {
    const key = JSON.stringify(shape);
    let grammar = this.grammars.get(key);
    if (!grammar) {
      grammar = this.llm.jsonGrammar(shape);
      this.grammars.set(key, grammar);
    }
    return grammar;
  }
}
