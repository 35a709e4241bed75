import { Argument, Command, Option } from 'commander';
import { FolderArtifactStore } from '../adapters/artifacts/folder.js';
import { HuggingFaceDatasetHub } from '../adapters/hub/huggingface.js';
import { LlamaCppJsonModel } from '../adapters/llm/llama-cpp/json-model.js';
import { leaseLocalLlm } from '../adapters/llm/llama-cpp/shared.js';
import { OpenAiJsonModel } from '../adapters/llm/openai-json.js';
import type { GenerationMethod } from '../datasets/generation.js';
import { HELD_OUT_PER_AUTHOR, writingSetOf } from '../evaluation/held-out.js';
import type { JsonChatModel } from '../ports/json-chat.js';
import type { Warehouse } from '../ports/warehouse.js';
import { buildDataset, type DatasetManifest } from '../datasets/pipeline.js';
import { HUB_REPO, publishDataset } from '../datasets/publish.js';
import type { DatasetKind } from '../datasets/prompts.js';
import { InvalidInputError } from '../domain/index.js';
import { authorIdsByName, openFeatureStoreForReading } from '../features/services.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import { openAiConfigured, stockLocalGenerator, type Settings } from '../settings/index.js';
import { cliSettings, withWarehouse, type GlobalOptions } from './context.js';
import { progressBar } from './progress-bar.js';
import { wholeNumberOption } from './whole-number.js';

interface DatasetOptions {
  authors?: string[];
  limit?: string;
  concurrency?: string;
  json?: boolean;
  push?: string;
  public?: boolean;
  version?: string;
  generator?: 'auto' | 'openai' | 'local';
  includeHeldOut?: boolean;
}

function wholeNumber(value: string | undefined, name: string, min: number, max: number): number | undefined {
  return value === undefined ? undefined : wholeNumberOption(value, name, min, max);
}

export function datasetCommand(globals: () => GlobalOptions): Command {
  return new Command('dataset')
    .description(
      'generate a versioned training dataset from the cleaned snapshot with an LLM, then curate and split it',
    )
    .addArgument(
      new Argument('<kind>', 'instruct (SFT pairs) or preference (DPO triples)').choices([
        'instruct',
        'preference',
      ]),
    )
    .option('--authors <names...>', 'only these authors')
    .option('--limit <n>', 'use only the first n extracts (a quick or cheap run)')
    .option('--concurrency <n>', 'requests in flight (default TWIN_DATASET_CONCURRENCY, 4)')
    .option('--json', 'print the manifest as JSON')
    .option(
      '--push <owner/name>',
      'then publish it to this Hugging Face Hub dataset repository (needs HF_TOKEN)',
    )
    .option('--public', 'create the Hub repository public (default: private)')
    .option('--version <version>', 'publish this existing version with --push instead of generating one')
    .addOption(
      new Option(
        '--generator <which>',
        "who writes the examples: openai (the book's generation), local (the local GGUF model, by instruction back-translation: the author's extracts are the answers), auto (openai when configured)",
      )
        .choices(['auto', 'openai', 'local'])
        .default('auto'),
    )
    .option(
      '--include-held-out',
      `also learn from the ${String(HELD_OUT_PER_AUTHOR)} articles per author that \`twin eval twin\` holds out (the evaluation then measures text the twin has seen)`,
    )
    .action(async (kind: DatasetKind, options: DatasetOptions) => {
      if (options.push !== undefined && !HUB_REPO.test(options.push)) {
        throw new InvalidInputError('--push must be a Hub repository as owner/name', 'push');
      }
      if (options.version !== undefined) {
        if (!options.push) throw new InvalidInputError('--version only goes with --push', 'version');
        if (!/^[0-9a-f]{8,64}$/u.test(options.version)) {
          throw new InvalidInputError('--version must be a dataset version (hexadecimal)', 'version');
        }
        const settings = await cliSettings(globals());
        await push(settings, new FolderArtifactStore(settings.artifactsDir), kind, options.version, options);
        return;
      }
      await withWarehouse(globals(), async (warehouse, settings) => {
        const limit = wholeNumber(options.limit, 'limit', 1, 1_000_000);
        const concurrency =
          wholeNumber(options.concurrency, 'concurrency', 1, 64) ?? settings.dataset.concurrency;
        const authorIds = options.authors ? await authorIdsByName(warehouse, options.authors) : undefined;
        const heldOut = options.includeHeldOut ? undefined : await heldOutArticles(warehouse);
        const { model, method, close } = await datasetModel(settings, options.generator ?? 'auto');
        const reader = await openFeatureStoreForReading(settings).catch(async (error: unknown) => {
          await close();
          throw error;
        });
        const { features } = reader;
        try {
          const artifacts = new FolderArtifactStore(settings.artifactsDir);
          process.stderr.write(
            `Generating a ${kind} dataset with ${model.model}${method === 'backtranslated' ? " (instruction back-translation: the answers are the author's own extracts)" : ''}\n`,
          );
          const result = await buildDataset(
            kind,
            { features, model, artifacts },
            { ...settings.dataset, concurrency },
            {
              ...(authorIds ? { authorIds } : {}),
              ...(limit !== undefined ? { limit } : {}),
              ...(heldOut ? { excludeDocumentIds: heldOut } : {}),
              method,
            },
            progressBar(),
          );
          const where = `${artifacts.location}/${result.prefix}`;
          console.log(
            options.json
              ? JSON.stringify(result.manifest, null, 2)
              : formatManifest(result.manifest, where, result.reused),
          );
          if (options.push) await push(settings, artifacts, kind, result.manifest.version, options);
        } finally {
          await reader.close();
          await close();
        }
      });
    });
}

/** llama.cpp's usual repetition penalty (its CLI default was 1.1 for years). */
const LOCAL_DATASET_REPETITION_PENALTY = 1.1;

/**
 * The model that writes the examples: an OpenAI-compatible API (the book's generation), or the local
 * GGUF model, which is too small to write in the author's voice, so it only back-translates.
 */
async function datasetModel(
  settings: Settings,
  which: 'auto' | 'openai' | 'local',
): Promise<{ model: JsonChatModel; method: GenerationMethod; close: () => Promise<void> }> {
  const local = stockLocalGenerator(settings);
  const useOpenAi = which === 'openai' || (which === 'auto' && openAiConfigured(settings));
  if (useOpenAi || !local) {
    if (!openAiConfigured(settings)) {
      throw new InvalidInputError(
        which === 'openai' || !local
          ? 'dataset generation needs an LLM: set OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible server), or put a GGUF model in the model folder (`twin models pull --generator`) for --generator local'
          : 'dataset generation with --generator openai needs OPENAI_API_KEY (or OPENAI_BASE_URL)',
        'OPENAI_API_KEY',
      );
    }
    const model = await OpenAiJsonModel.create({
      ...settings.dataset,
      ...(settings.openAiBaseUrl ? { baseUrl: settings.openAiBaseUrl } : {}),
      ...(settings.secrets.OPENAI_API_KEY ? { apiKey: settings.secrets.OPENAI_API_KEY } : {}),
    });
    return { model, method: 'generated', close: async () => {} };
  }
  const lease = await leaseLocalLlm(local);
  const model = new LlamaCppJsonModel(lease.llm, {
    maxTokens: settings.dataset.maxTokens,
    timeoutMs: local.timeoutMs,
    // Requests and plain answers are free text inside the JSON: greedy decoding alone loops on them.
    repetitionPenalty: LOCAL_DATASET_REPETITION_PENALTY,
  });
  return { model, method: 'backtranslated', close: () => lease.release() };
}

/** The writing evaluation's held-out articles, when the corpus has enough authors and articles for one. */
async function heldOutArticles(warehouse: Warehouse): Promise<ReadonlySet<string> | undefined> {
  try {
    const set = await writingSetOf(warehouse, HELD_OUT_PER_AUTHOR);
    process.stderr.write(
      `Keeping out ${String(set.heldOutIds.size)} articles held out for \`twin eval twin\` (--include-held-out to learn from them)\n`,
    );
    return set.heldOutIds;
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    process.stderr.write(`Learning from every article: no writing evaluation here (${error.message})\n`);
    return undefined;
  }
}

async function push(
  settings: Settings,
  artifacts: ArtifactStore,
  kind: DatasetKind,
  version: string,
  options: DatasetOptions,
): Promise<void> {
  const token = settings.secrets.HF_TOKEN;
  if (!token) {
    throw new InvalidInputError(
      'publishing to the Hub needs HF_TOKEN (a token with write access)',
      'HF_TOKEN',
    );
  }
  const hub = await HuggingFaceDatasetHub.create({
    repo: options.push ?? '',
    token,
    private: !options.public,
    hubUrl: settings.hubUrl,
  });
  process.stderr.write(`Publishing ${kind} dataset ${version} to ${hub.location}\n`);
  const published = await publishDataset(artifacts, hub, kind, version);
  console.log(
    published.published
      ? `published ${kind} dataset ${version} to ${published.location} (commit ${published.commit ?? '?'})`
      : `${kind} dataset ${version} is already on ${published.location}; nothing pushed`,
  );
}

function formatManifest(manifest: DatasetManifest, where: string, reused: boolean): string {
  const { generation, splits } = manifest;
  return [
    `${manifest.kind} dataset ${manifest.version} ${reused ? 'already existed (same inputs, same version)' : 'written'}: ${where}`,
    `  ${String(generation.requests)} requests to ${generation.model}, ${String(generation.malformed)} malformed replies, ${String(generation.failed)} failed; ` +
      `${String(generation.usage.promptTokens + generation.usage.completionTokens)} tokens, about $${generation.estimatedCostUsd.toFixed(4)}`,
    ...manifest.counts.map((count) => `  ${count.stage}: ${String(count.total)}`),
    `  split by source document: ${String(splits.train)} train rows from ${String(splits.documents.train)} documents, ` +
      `${String(splits.test)} test rows from ${String(splits.documents.test)} (${String(splits.sharedDocuments)} documents on both sides)`,
    `  decontamination: ${String(splits.decontamination.sharedText)} test rows dropped for sharing 13 words with train, ` +
      `${String(splits.decontamination.sharedPassage)} for a source passage overlapping train's`,
  ].join('\n');
}
