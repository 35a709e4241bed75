import { z } from 'zod';

export type DatasetKind = 'instruct' | 'preference';

/** Part of every dataset's lineage: bump when a prompt's wording changes. */
export const PROMPT_VERSION = 'dataset-prompts-v1';
export const EXAMPLES_PER_EXTRACT = 5;

const SHARED_RULES = `Rules for the instructions:
- Each one must stand on its own, as a request a reader could make without ever seeing the passage.
- Never refer to "the passage", "the text", "the extract", "the context", "the article" or "the author".
- Keep them general and useful: ask about ideas, techniques and opinions the passage covers.`;

export function instructPrompt(extract: string): string {
  return `You write training data that teaches a language model to write like a specific author.
Below is a passage this author wrote. Write ${String(EXAMPLES_PER_EXTRACT)} different instruction and answer pairs.

${SHARED_RULES}

Rules for the answers:
- Answer fully, using what the passage says.
- Write in the author's own voice: same tone, vocabulary, sentence rhythm and formatting habits.

Reply with JSON only, in exactly this shape:
{"instruction_answer_pairs": [{"instruction": "...", "answer": "..."}]}

Passage:
"""
${extract}
"""`;
}

export function preferencePrompt(extract: string): string {
  return `You write preference data that teaches a language model to prefer a specific author's writing.
Below is a passage this author wrote. Write ${String(EXAMPLES_PER_EXTRACT)} triples, each with an instruction, a generated
answer and an extracted answer.

${SHARED_RULES}

Rules for the answers:
- "generated_answer": your own answer to the instruction, in a neutral, helpful style.
- "extracted_answer": a passage copied word for word from the text below that answers the instruction:
  an exact, unaltered excerpt of one or more whole sentences, never a paraphrase or summary.

Reply with JSON only, in exactly this shape:
{"preference_triples": [{"instruction": "...", "generated_answer": "...", "extracted_answer": "..."}]}

Passage:
"""
${extract}
"""`;
}

const text = z.string().trim().min(1);

export const InstructResponseSchema = z.object({
  instruction_answer_pairs: z.array(z.object({ instruction: text, answer: text })).min(1),
});

export const PreferenceResponseSchema = z.object({
  preference_triples: z
    .array(z.object({ instruction: text, generated_answer: text, extracted_answer: text }))
    .min(1),
});

/** Part of the lineage of a dataset made by instruction back-translation. */
export const BACKTRANSLATION_PROMPT_VERSION = 'dataset-backtranslation-v1';
/** A request longer than this is a copy of the passage, not a request. */
const MAX_INSTRUCTION_CHARS = 300;
const MAX_PLAIN_ANSWER_CHARS = 1500;

export function backtranslationPrompt(extract: string): string {
  return `Here is a passage from a blog post.

"""
${extract}
"""

Write the request a reader could have sent to get this passage as the answer, for example "Explain how ..." or "Write about ...". The request must make sense on its own, without the passage. Reply with JSON: {"instruction": "..."}`;
}

export function plainAnswerPrompt(instruction: string): string {
  return `${instruction}\n\nReply with JSON: {"answer": "..."}`;
}

export const BacktranslatedInstructionSchema = z.object({
  instruction: text.max(MAX_INSTRUCTION_CHARS),
});

export const PlainAnswerSchema = z.object({ answer: text.max(MAX_PLAIN_ANSWER_CHARS) });

/** The same shapes as grammars for llama.cpp, so even a small local model replies with nothing else. */
export const BACKTRANSLATED_INSTRUCTION_SHAPE = {
  type: 'object',
  properties: { instruction: { type: 'string', maxLength: MAX_INSTRUCTION_CHARS } },
  required: ['instruction'],
} as const;

export const PLAIN_ANSWER_SHAPE = {
  type: 'object',
  properties: { answer: { type: 'string', maxLength: MAX_PLAIN_ANSWER_CHARS } },
  required: ['answer'],
} as const;
