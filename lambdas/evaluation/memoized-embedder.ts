import type { Embedder } from '../ports/embedder.js';

/**
 * An embedder that embeds each distinct text once per run: an evaluation asks the same questions
 * under every setting, and featurises the same chunks again for each keyword indexing, so only the
 * first pass reaches the model. For evaluation runs only (the cache grows with every text seen).
 */
export function memoizedEmbedder(embedder: Embedder): Embedder {
  const vectors = new Map<string, number[]>();
  return {
    model: embedder.model,
    tokenizer: embedder.tokenizer,
    async embed(texts) {
      const missing = [...new Set(texts.filter((text) => !vectors.has(text)))];
      if (missing.length > 0) {
        const embedded = await embedder.embed(missing);
        missing.forEach((text, index) => {
          const vector = embedded[index];
          if (vector) vectors.set(text, vector);
        });
      }
      return texts.map((text) => {
        const vector = vectors.get(text);
        if (!vector) throw new Error('the embedder returned fewer vectors than texts');
        return vector;
      });
    },
  };
}
