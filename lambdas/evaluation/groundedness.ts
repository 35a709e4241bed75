import type { Embedder } from '../ports/embedder.js';

/**
 * An answer sentence is supported when some sentence of the retrieved sources means nearly the same:
 * cosine of their embeddings (the feature pipeline's own model) at least this. Set once, between the
 * classes of the labelled handful in test/fixtures/groundedness-labelled.json (paraphrases of a source
 * scored 0.43-0.87 with all-MiniLM-L6-v2, claims the sources do not make 0.05-0.33), which the tests
 * check it still separates; never from the evaluation's answers. Similarity finds support; it does
 * not see a negation, so it is no fact check.
 */
export const SUPPORTED_SIMILARITY = 0.4;
/** Word n-grams of this length found verbatim in a source are copied, not written. */
export const COPY_NGRAM = 8;

/** Sentences of a text (at . ! ? or a line break), those with at least four words. */
export function sentencesOf(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/u)
    .map((sentence) => sentence.trim())
    .filter((sentence) => (sentence.match(/\p{L}+/gu) ?? []).length >= 4);
}

/** Per answer sentence, its best similarity to any source sentence (embedded in one batch each). */
export async function sentenceSupport(
  embedder: Embedder,
  answer: string,
  sources: readonly string[],
): Promise<number[]> {
  const claims = sentencesOf(answer);
  const evidence = sources.flatMap(sentencesOf);
  if (claims.length === 0 || evidence.length === 0) return claims.map(() => 0);
  const [claimVectors, evidenceVectors] = [await embedder.embed(claims), await embedder.embed(evidence)];
  return claimVectors.map((claim) =>
    Math.max(...evidenceVectors.map((source) => dot(claim, source) / (norm(claim) * norm(source) || 1))),
  );
}

/** The share of the answer's sentences supported by the sources; 0 for an answer with no sentence. */
export async function groundedness(
  embedder: Embedder,
  answer: string,
  sources: readonly string[],
): Promise<number> {
  const support = await sentenceSupport(embedder, answer, sources);
  if (support.length === 0) return 0;
  return support.filter((similarity) => similarity >= SUPPORTED_SIMILARITY).length / support.length;
}

/** The share of the answer's word 8-grams that appear verbatim in a source: pasted, not written. */
export function copiedShare(answer: string, sources: readonly string[]): number {
  const grams = (text: string) => {
    const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
    const found: string[] = [];
    for (let start = 0; start + COPY_NGRAM <= words.length; start++) {
      found.push(words.slice(start, start + COPY_NGRAM).join(' '));
    }
    return found;
  };
  const answerGrams = grams(answer);
  if (answerGrams.length === 0) return 0;
  const sourceGrams = new Set(sources.flatMap(grams));
  return answerGrams.filter((gram) => sourceGrams.has(gram)).length / answerGrams.length;
}

function dot(a: readonly number[], b: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] ?? 0) * (b[i] ?? 0);
  return sum;
}

function norm(a: readonly number[]): number {
  return Math.sqrt(dot(a, a));
}
