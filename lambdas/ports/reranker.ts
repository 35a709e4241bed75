/** Scores how well each passage answers a query, reading both together (a cross-encoder). */
export interface Reranker {
  readonly model: string;
  /** One relevance score per passage, in order; higher is more relevant. */
  score(query: string, passages: readonly string[]): Promise<number[]>;
}
