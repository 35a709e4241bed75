import { z } from 'zod';

const EstimateSchema = z.object({ mean: z.number(), interval: z.tuple([z.number(), z.number()]) });

/** The part of the report the web app shows: the table and the sanity checks, no answers. */
export const WritingEvaluationSchema = z.object({
  createdAt: z.string(),
  requestsPerAuthor: z.number(),
  rows: z.array(
    z.object({
      author: z.string(),
      system: z.string(),
      kind: z.enum(['ceiling', 'control', 'system']),
      requests: z.number(),
      styleCosine: EstimateSchema,
      attribution: EstimateSchema,
      groundedness: EstimateSchema.optional(),
      copied: EstimateSchema.optional(),
      perplexity: EstimateSchema.optional(),
      notWriting: z.number(),
      rewritten: z.number(),
    }),
  ),
  sanity: z.array(z.object({ name: z.string(), passed: z.boolean(), detail: z.string() })),
});
export type WritingEvaluationView = z.infer<typeof WritingEvaluationSchema>;
