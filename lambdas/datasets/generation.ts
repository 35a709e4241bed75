import type { z } from 'zod';
import { ModelAccessError, type JsonChatModel, type JsonShape, type TokenUsage } from '../ports/json-chat.js';
import { ignoreProgress, type ProgressListener } from '../shared/progress.js';
import type { Extract } from './extracts.js';
import {
  BACKTRANSLATED_INSTRUCTION_SHAPE,
  BACKTRANSLATION_PROMPT_VERSION,
  BacktranslatedInstructionSchema,
  InstructResponseSchema,
  PLAIN_ANSWER_SHAPE,
  PROMPT_VERSION,
  PlainAnswerSchema,
  PreferenceResponseSchema,
  backtranslationPrompt,
  instructPrompt,
  plainAnswerPrompt,
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

/** How examples are made from an extract: one or more JSON requests, then the samples. */
interface KindSpec<K extends DatasetKind> {
  ask(model: JsonChatModel, extract: Extract): Promise<Asked<SampleOf<K>>>;
}

interface Asked<S> {
  /** Undefined when a reply was not the JSON asked for. */
  samples?: S[];
  usage: TokenUsage;
}

/** One JSON request, validated; the reply's usage is counted even when it is malformed. */
async function askJson<T>(
  model: JsonChatModel,
  prompt: string,
  schema: z.ZodType<T>,
  shape?: JsonShape,
): Promise<{ value?: T; usage: TokenUsage }> {
  const reply = await model.completeJson(prompt, shape);
  const parsed = schema.safeParse(parseJsonOrUndefined(reply.text));
  return parsed.success ? { value: parsed.data, usage: reply.usage } : { usage: reply.usage };
}

function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
  };
}

/** The book's way: the LLM writes instructions and answers (in the author's voice) from the extract. */
const GENERATED: { [K in DatasetKind]: KindSpec<K> } = {
  instruct: {
    ask: async (model, extract) => {
      const { value, usage } = await askJson(model, instructPrompt(extract.text), InstructResponseSchema);
      return {
        usage,
        ...(value && {
          samples: value.instruction_answer_pairs.map((pair) => ({
            extractId: extract.id,
            category: extract.category,
            instruction: pair.instruction,
            answer: pair.answer,
          })),
        }),
      };
    },
  },
  preference: {
    ask: async (model, extract) => {
      const { value, usage } = await askJson(model, preferencePrompt(extract.text), PreferenceResponseSchema);
      return {
        usage,
        ...(value && {
          samples: value.preference_triples.map((triple) => ({
            extractId: extract.id,
            category: extract.category,
            instruction: triple.instruction,
            generatedAnswer: triple.generated_answer,
            extractedAnswer: triple.extracted_answer,
          })),
        }),
      };
    },
  },
};

/**
 * Instruction back-translation (Li et al., 2023): the model only writes the request that the
 * author's extract answers, and the extract itself is the answer. What the twin learns to write is
 * then the author's own words, never a small local model's imitation of them. For preference
 * data the model also answers the request without the extract: its generic answer is the rejected
 * one, the author's the chosen (the book's pairing).
 */
const BACKTRANSLATED: { [K in DatasetKind]: KindSpec<K> } = {
  instruct: {
    ask: async (model, extract) => {
      const { value, usage } = await askJson(
        model,
        backtranslationPrompt(extract.text),
        BacktranslatedInstructionSchema,
        BACKTRANSLATED_INSTRUCTION_SHAPE,
      );
      return {
        usage,
        ...(value && {
          samples: [
            {
              extractId: extract.id,
              category: extract.category,
              instruction: value.instruction,
              answer: extract.text,
            },
          ],
        }),
      };
    },
  },
  preference: {
    ask: async (model, extract) => {
      const request = await BACKTRANSLATED.instruct.ask(model, extract);
      const instruction = request.samples?.[0]?.instruction;
      if (instruction === undefined) return { usage: request.usage };
      const { value, usage } = await askJson(
        model,
        plainAnswerPrompt(instruction),
        PlainAnswerSchema,
        PLAIN_ANSWER_SHAPE,
      );
      return {
        usage: addUsage(request.usage, usage),
        ...(value && {
          samples: [
            {
              extractId: extract.id,
              category: extract.category,
              instruction,
              generatedAnswer: value.answer,
              extractedAnswer: extract.text,
            },
          ],
        }),
      };
    },
  },
};

/** `generated`: the book's method, for a capable model; `backtranslated`: for a small local one. */
export type GenerationMethod = 'generated' | 'backtranslated';

/** Part of a dataset's lineage: which prompts made it. */
export function promptVersionOf(method: GenerationMethod): string {
  return method === 'generated' ? PROMPT_VERSION : BACKTRANSLATION_PROMPT_VERSION;
}

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
  method: GenerationMethod = 'generated',
): Promise<GenerationReport<K>> {
  const spec = (method === 'generated' ? GENERATED : BACKTRANSLATED)[kind] as KindSpec<K>;
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
        const asked = await spec.ask(model, extract);
        report.usage = addUsage(report.usage, asked.usage);
        if (asked.samples) perExtract[index] = asked.samples;
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
