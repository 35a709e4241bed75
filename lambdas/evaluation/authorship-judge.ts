import { z } from 'zod';
import type { JsonChatModel, JsonShape } from '../ports/json-chat.js';
import { parseJsonOrUndefined } from '../shared/json.js';

/** Reference passages the judge reads before each comparison. */
export const JUDGE_REFERENCES = 5;

const VerdictSchema = z.object({ author_wrote: z.enum(['A', 'B']) });
const VERDICT_SHAPE: JsonShape = {
  type: 'object',
  properties: { author_wrote: { enum: ['A', 'B'] } },
  required: ['author_wrote'],
};

/** The pairwise question: given the author's passages, which of two texts did the same author write? */
export function authorshipPrompt(references: readonly string[], first: string, second: string): string {
  const numbered = references.map((text, index) => `Passage ${String(index + 1)}:\n"""\n${text}\n"""`);
  return [
    'You compare writing styles. Here are passages by one author:',
    ...numbered,
    'One of the two texts below was written by this author, the other was not. Judge by style alone: word choice, sentence rhythm, punctuation, the way ideas are introduced; not by topic or correctness.',
    `Text A:\n"""\n${first}\n"""`,
    `Text B:\n"""\n${second}\n"""`,
    'Reply with JSON only: {"author_wrote": "A"} or {"author_wrote": "B"}.',
  ].join('\n\n');
}

async function verdict(judge: JsonChatModel, prompt: string): Promise<'A' | 'B' | undefined> {
  try {
    const reply = await judge.completeJson(prompt, VERDICT_SHAPE);
    const parsed = VerdictSchema.safeParse(parseJsonOrUndefined(reply.text));
    return parsed.success ? parsed.data.author_wrote : undefined;
  } catch {
    // A failed verdict is missing, never counted as either text.
    return undefined;
  }
}

/**
 * How often the judge takes the system's text for the author's, asked in both orders (so a judge
 * that always answers "A" scores 0.5, not 1): 0 always spotted, 0.5 indistinguishable from the
 * author; undefined when neither verdict could be read.
 */
export async function judgeAuthorship(
  judge: JsonChatModel,
  references: readonly string[],
  authorText: string,
  systemText: string,
): Promise<number | undefined> {
  const systemFirst = await verdict(judge, authorshipPrompt(references, systemText, authorText));
  const authorFirst = await verdict(judge, authorshipPrompt(references, authorText, systemText));
  const picks = [
    ...(systemFirst === undefined ? [] : [systemFirst === 'A' ? 1 : 0]),
    ...(authorFirst === undefined ? [] : [authorFirst === 'B' ? 1 : 0]),
  ];
  return picks.length === 0 ? undefined : picks.reduce((sum, pick) => sum + pick, 0) / picks.length;
}
