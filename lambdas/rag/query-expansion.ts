import { z } from 'zod';
import type { JsonChatModel } from '../ports/json-chat.js';
import { parseJsonOrUndefined } from '../shared/json.js';

export function expansionPrompt(query: string, alternatives: number): string {
  return [
    `Rewrite the question below in ${String(alternatives)} different ways, to search a collection of articles, posts and code by meaning.`,
    'Keep what is asked; change the words and the angle. Each rewrite must stand on its own.',
    `Answer with JSON only: {"queries": ["...", ...]} with exactly ${String(alternatives)} strings.`,
    `Question:\n"""\n${query}\n"""`,
  ].join('\n');
}

const ExpansionReplySchema = z.object({ queries: z.array(z.unknown()) });
/** The most characters a rewrite may have when the model can be held to a shape. */
const MAX_REWRITE_CHARS = 300;

/** The reply's shape for `alternatives` rewrites, for models that can be held to it. */
function expansionReplyShape(alternatives: number) {
  return {
    type: 'object',
    properties: {
      queries: {
        type: 'array',
        items: { type: 'string', maxLength: MAX_REWRITE_CHARS },
        minItems: alternatives,
        maxItems: alternatives,
      },
    },
  } as const;
}

export interface Expansion {
  /** The original query first, then the distinct rewrites, at most `total` in all. */
  queries: string[];
  note?: string;
}

/**
 * Query expansion (SYSTEM.md §6): up to total-1 rewrites of the query. Robust to what models do: too
 * few or too many rewrites, blanks, numbering, repeats of the original, a list instead of JSON, or no
 * answer at all (then the original query is searched alone).
 */
export async function expandQuery(model: JsonChatModel, query: string, total: number): Promise<Expansion> {
  if (total <= 1) return { queries: [query] };
  let reply: string;
  try {
    reply = (await model.completeJson(expansionPrompt(query, total - 1), expansionReplyShape(total - 1)))
      .text;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      queries: [query],
      note: `query expansion failed (${reason}); searching the original query only`,
    };
  }
  const candidates = rewritesIn(reply);
  const seen = new Set([normalize(query)]);
  const rewrites = candidates
    .map((candidate) => candidate.replace(/^\s*(\d+[.)]|[-*•])\s*/u, '').trim())
    .filter(
      (candidate) => candidate !== '' && !seen.has(normalize(candidate)) && seen.add(normalize(candidate)),
    )
    .slice(0, total - 1);
  const queries = [query, ...rewrites];
  return queries.length < total
    ? {
        queries,
        note: `query expansion gave ${String(rewrites.length)} usable rewrites of ${String(total - 1)} asked`,
      }
    : { queries };
}

/** The rewrites in a reply: the JSON list when there is one, else one per non-blank line. */
function rewritesIn(reply: string): string[] {
  const parsed = ExpansionReplySchema.safeParse(parseJsonOrUndefined(reply));
  if (parsed.success) return parsed.data.queries.filter((item): item is string => typeof item === 'string');
  return reply.split(/\n|#next-question#/u);
}

function normalize(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}
