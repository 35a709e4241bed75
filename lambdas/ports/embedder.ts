import type { EmbeddingModelInfo } from '../domain/index.js';

/** The embedding model's own tokenizer: chunk sizes are measured in its tokens. */
export interface Tokenizer {
  /** Longest input, in tokens including special tokens, that the model reads without truncating. */
  readonly maxInputTokens: number;
  /** Tokens that every input spends on special tokens ([CLS], [SEP], ...). */
  readonly specialTokens: number;
  /** Tokens of `text` on its own, without special tokens. */
  countTokens(text: string): number;
}

/** Turns texts into unit-length vectors; queries and chunks must go through the same embedder. */
export interface Embedder {
  readonly model: EmbeddingModelInfo;
  readonly tokenizer: Tokenizer;
  /** One vector per text, in order. Batches internally. */
  embed(texts: readonly string[]): Promise<number[][]>;
}
