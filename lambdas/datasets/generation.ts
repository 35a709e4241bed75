import type { z } from 'zod';
import { ModelAccessError, type JsonChatModel, type TokenUsage } from '../ports/json-chat.js';
import { ignoreProgress, type ProgressListener } from '../shared/progress.js';
import type { Extract } from './extracts.js';
import {
  InstructResponseSchema,
  PreferenceResponseSchema,
  instructPrompt,
  preferencePrompt,
  type DatasetKind,
} from './prompts.js';
import { parseJsonOrUndefined } from '../shared/json.js';

export interface InstructSample {
  extractId: string;
  category: Extract['category'];
  instruction: string;
  answer: string;
}

export interface PreferenceSample {
  extractId: string;
  category: Extract['category'];
  instruction: string;
  generatedAnswer: string;
  extractedAnswer: string;
}

export type SampleOf<K extends DatasetKind> = K extends 'instruct' ? InstructSample : PreferenceSample;

export interface GenerationReport<K extends DatasetKind> {
  samples: SampleOf<K>[];
  requests: number;
  /** Replies that were not JSON, or not the JSON asked for: counted and skipped. */
  malformed: number;
  /** Requests that still failed after the client's retries (timeouts, persistent 5xx). */
  failed: number;
  failures: string[];
  usage: TokenUsage;
}

interface KindSpec<K extends DatasetKind> {
  prompt(extract: string): string;
  schema: z.ZodType;
  toSamples(reply: unknown, extract: Extract): SampleOf<K>[];
}

const SPECS: { [K in DatasetKind]: KindSpec<K> } = {
  instruct: {
    prompt: instructPrompt,
    schema: InstructResponseSchema,
    toSamples: (reply, extract) =>
      (reply as z.infer<typeof InstructResponseSchema>).instruction_answer_pairs.map((pair) => ({
        extractId: extract.id,
        category: extract.category,
        instruction: pair.instruction,
        answer: pair.answer,
      })),
  },
  preference: {
    prompt: preferencePrompt,
    schema: PreferenceResponseSchema,
    toSamples: (reply, extract) =>
      (reply as z.infer<typeof PreferenceResponseSchema>).preference_triples.map((triple) => ({
        extractId: extract.id,
        category: extract.category,
        instruction: triple.instruction,
        generatedAnswer: triple.generated_answer,
        extractedAnswer: triple.extracted_answer,
      })),
  },
};

/**
 * Asks the LLM for examples from every extract, `concurrency` requests at a time (the provider's
 * rate limit is the real ceiling). One bad reply or failed request costs its extract, never the run,
 * except a refused credential (401, 403): then no further request is sent, the ones in flight
 * finish, and the refusal is thrown with how far the run got.
 */
export async function generateSamples<K extends DatasetKind>(
  kind: K,
  model: JsonChatModel,
  extracts: readonly Extract[],
  concurrency: number,
  onProgress: ProgressListener = ignoreProgress,
): Promise<GenerationReport<K>> {
  const spec = SPECS[kind] as KindSpec<K>;
  const perExtract: SampleOf<K>[][] = new Array<SampleOf<K>[]>(extracts.length);
  const report: GenerationReport<K> = {
    samples: [],
    requests: 0,
    malformed: 0,
    failed: 0,
    failures: [],
    usage: { promptTokens: 0, completionTokens: 0 },
  };
  let next = 0;
  let done = 0;
  let refused: ModelAccessError | undefined;
  onProgress({ stage: 'extracts', done, total: extracts.length });
  const worker = async () => {
    for (let index = next++; index < extracts.length && !refused; index = next++) {
      const extract = extracts[index];
      if (!extract) continue;
      report.requests += 1;
      try {
        const reply = await model.completeJson(spec.prompt(extract.text));
        report.usage.promptTokens += reply.usage.promptTokens;
        report.usage.completionTokens += reply.usage.completionTokens;
        const parsed = spec.schema.safeParse(parseJsonOrUndefined(reply.text));
        if (parsed.success) perExtract[index] = spec.toSamples(parsed.data, extract);
        else report.malformed += 1;
      } catch (error) {
        if (error instanceof ModelAccessError) refused ??= error;
        report.failed += 1;
        if (report.failures.length < 20)
          report.failures.push(error instanceof Error ? error.message : String(error));
      }
      onProgress({ stage: 'extracts', done: ++done, total: extracts.length });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, extracts.length)) }, worker));
  if (refused) {
    throw new ModelAccessError(
      `${refused.message}. Stopped after ${String(report.requests)} of ${String(extracts.length)} requests; no dataset was written.`,
      refused.status,
      { cause: refused },
    );
  }
  // Extract order, not completion order: the same inputs give the same dataset.
  report.samples = perExtract.flatMap((samples) => samples);
  return report;
}

/** One report from the reports of batches generated separately (in batch order). */
export function mergeReports<K extends DatasetKind>(
  reports: readonly GenerationReport<K>[],
): GenerationReport<K> {
  return {
    samples: reports.flatMap((report) => report.samples),
    requests: reports.reduce((sum, report) => sum + report.requests, 0),
    malformed: reports.reduce((sum, report) => sum + report.malformed, 0),
    failed: reports.reduce((sum, report) => sum + report.failed, 0),
    failures: reports.flatMap((report) => report.failures).slice(0, 20),
    usage: {
      promptTokens: reports.reduce((sum, report) => sum + report.usage.promptTokens, 0),
      completionTokens: reports.reduce((sum, report) => sum + report.usage.completionTokens, 0),
    },
  };
}
