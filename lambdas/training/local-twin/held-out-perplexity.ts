import type { LocalLlm } from '../../adapters/llm/llama-cpp/local-llm.js';
import type { HeldOutRequest } from '../../evaluation/writing-set.js';

/** Tokens of each held-out passage scored: the first ones, where the author's voice starts. */
export const PERPLEXITY_TOKENS = 64;

export interface AuthorPerplexity {
  perplexity: number;
  passages: number;
}

/**
 * Each author's perplexity over the first prose passage of their held-out articles (pooled: the
 * exponent of the mean negative log-likelihood per token). Held-out articles are never in a
 * training dataset, so a twin scores lower here only by writing more like the author.
 */
export async function heldOutPerplexity(
  llm: LocalLlm,
  requests: readonly HeldOutRequest[],
  tokens = PERPLEXITY_TOKENS,
): Promise<Record<string, AuthorPerplexity>> {
  const totals = new Map<string, { nll: number; tokens: number; passages: number }>();
  for (const request of requests) {
    const score = await llm.negativeLogLikelihood(request.reference, tokens);
    const total = totals.get(request.author) ?? { nll: 0, tokens: 0, passages: 0 };
    totals.set(request.author, {
      nll: total.nll + score.nll,
      tokens: total.tokens + score.tokens,
      passages: total.passages + 1,
    });
  }
  return Object.fromEntries(
    [...totals].map(([author, total]) => [
      author,
      { perplexity: Math.exp(total.nll / Math.max(1, total.tokens)), passages: total.passages },
    ]),
  );
}
