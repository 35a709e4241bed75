import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import type { LocalLlm } from '../adapters/llm/llama-cpp/local-llm.js';
import { leaseLocalLlm } from '../adapters/llm/llama-cpp/shared.js';
import { openWarehouse } from '../adapters/warehouse/index.js';
import { InvalidInputError } from '../domain/index.js';
import { fidelityChartSvg } from '../evaluation/fidelity-chart.js';
import { StyleModel } from '../evaluation/stylometry.js';
import {
  answerRequests,
  formatFidelity,
  sanityChecks,
  scoreWriting,
  type FidelityRow,
  type HeldOutLikelihood,
  type SanityCheck,
  type WritingAnswer,
  type WritingSystem,
} from '../evaluation/twin-fidelity.js';
import { HELD_OUT_PER_AUTHOR, writingSetOf } from '../evaluation/held-out.js';
import type { LocalGeneratorSettings } from '../settings/index.js';
import { listTwins, twinAdapters } from '../training/local-twin/registry.js';
import type { HeldOutRequest, WritingSet } from '../evaluation/writing-set.js';
import { runFeaturePipeline } from '../features/pipeline.js';
import { openFeatureServices } from '../features/services.js';
import type { Embedder } from '../ports/embedder.js';
import type { Warehouse } from '../ports/warehouse.js';
import { openGenerator, openRetriever } from '../rag/open-service.js';
import type { ContextRetriever, RankedChunk } from '../rag/retriever.js';
import { RagService } from '../rag/service.js';
import { OpenAiJsonModel } from '../adapters/llm/openai-json.js';
import { loadSettingsWithSecrets, openAiConfigured, type Settings } from '../settings/index.js';
import { importWarehouse } from '../warehouse/import.js';
import { openExportSource } from '../warehouse/sources.js';
import { IncompleteResultError, cliSettings, type GlobalOptions } from './context.js';
import { LATEST_WRITING_EVALUATION } from '../workspace/writing-evaluation.js';
import { progressBar } from './progress-bar.js';
import { wholeNumberOption } from './whole-number.js';

interface ModelRun {
  file: string;
  label: string;
  /** Also evaluated without retrieval (the stock models). */
  withoutRag: boolean;
  /** A prompt layout forced in place of the automatic choice. */
  layout?: 'alpaca';
  /** A registered twin: its adapter on `file`, the base it was trained on. */
  twin?: LocalGeneratorSettings['twin'];
}

interface TwinEvalOptions {
  compareLayouts?: boolean;
  judge: boolean;
  judgeModel: string;
  corpus?: string;
  requests: string;
  model?: string[];
  twin?: string;
  maxNewTokens: string;
  maxInputTokens?: string;
  perplexityTokens: string;
  rerank: boolean;
  out?: string;
  chart?: string;
  check?: boolean;
  json?: boolean;
}

export interface FidelityReport {
  createdAt: string;
  requestsPerAuthor: number;
  maxNewTokens: number;
  systems: { name: string; model: string; rag: boolean }[];
  rows: FidelityRow[];
  sanity: SanityCheck[];
  answers: WritingAnswer[];
  likelihoods: HeldOutLikelihood[];
  seconds: number;
}

export function addTwinEvaluation(evaluation: Command, globals: () => GlobalOptions): void {
  evaluation
    .command('twin')
    .description(
      'does it write like the author? Held-out articles become writing requests; each model answers with and without retrieval; stylometry, attribution, verification and groundedness, with bootstrap 90% intervals',
    )
    .option(
      '--corpus <export>',
      'a warehouse export (folder or URL) to evaluate on; default: the configured warehouse',
    )
    .option(
      '--requests <n>',
      'held-out articles per author (each one writing request)',
      String(HELD_OUT_PER_AUTHOR),
    )
    .option(
      '--model <gguf...>',
      'stock GGUF models to evaluate, each without and with retrieval; default: the configured local generator',
    )
    .option(
      '--twin <version>',
      'a trained twin to evaluate beside the stock models: a version of `twin models` (its adapter on its base, with and without retrieval) or a merged GGUF (with retrieval)',
    )
    .option('--max-new-tokens <n>', 'longest answer in tokens', '200')
    .option(
      '--max-input-tokens <n>',
      'prompt budget in tokens (TWIN_GENERATION_MAX_INPUT_TOKENS; default: what the model context leaves)',
    )
    .option(
      '--perplexity-tokens <n>',
      'tokens of each held-out passage whose perplexity each model measures (0: none; exact, so slow for a large vocabulary)',
      '64',
    )
    .option(
      '--compare-layouts',
      'also evaluate each model that has a chat template with the Alpaca layout instead (with retrieval)',
    )
    .option(
      '--judge-model <name>',
      'the LLM judge asked "which of these two did the author write?", when an OpenAI-compatible API is configured',
      'gpt-4o-mini',
    )
    .option('--no-judge', 'skip the LLM judge even when an API is configured')
    .option('--no-rerank', 'keep the search order (no cross-encoder)')
    .option('--out <file>', 'also write the report (rows, checks, every answer) as JSON')
    .option('--chart <file>', 'also draw the table as an SVG chart')
    .option('--check', 'exit 1 when a sanity check fails or an answer is still not writing after the guard')
    .option('--json', 'print the report as JSON instead of a table')
    .action(async (options: TwinEvalOptions) => {
      const perAuthor = wholeNumberOption(options.requests, 'requests', 1, 100);
      const maxNewTokens = wholeNumberOption(options.maxNewTokens, 'max-new-tokens', 16, 2048);
      if (options.maxInputTokens !== undefined)
        wholeNumberOption(options.maxInputTokens, 'max-input-tokens', 256, 131072);
      wholeNumberOption(options.perplexityTokens, 'perplexity-tokens', 0, 4096);
      const settings = await cliSettings(globals());
      const models = (options.model ?? []).map((file) => resolve(file));
      if (models.length === 0) {
        if (settings.generator.kind !== 'local') {
          throw new InvalidInputError(
            'no local model to evaluate: pass --model <file.gguf>, or configure one (twin models pull --generator)',
            'model',
          );
        }
        models.push(settings.generator.file);
      }
      const started = performance.now();
      const report = await evaluateWriting(settings, options, models, perAuthor, maxNewTokens);
      report.seconds = Math.round((performance.now() - started) / 1000);
      const text = JSON.stringify(report, null, 2);
      const latest = join(settings.dataDir, LATEST_WRITING_EVALUATION);
      for (const file of [latest, ...(options.out ? [resolve(options.out)] : [])]) {
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, `${text}\n`);
      }
      if (options.chart) {
        await mkdir(dirname(resolve(options.chart)), { recursive: true });
        await writeFile(
          resolve(options.chart),
          fidelityChartSvg(report.rows, 'Does the twin write like the author?'),
        );
      }
      console.log(options.json ? text : formatFidelity(report.rows, report.sanity));
      process.stderr.write(`Evaluated in ${String(report.seconds)} s; the report is in ${latest}\n`);
      if (options.check) {
        const failures = [
          ...report.sanity.filter((check) => !check.passed).map((check) => `${check.name}: ${check.detail}`),
          ...report.rows
            .filter((row) => row.notWriting > 0)
            .map((row) => `${row.system} (${row.author}): ${String(row.notWriting)} answer(s) not writing`),
        ];
        for (const failure of failures) console.error(`twin: ${failure}`);
        if (failures.length > 0) {
          throw new IncompleteResultError(
            `${String(failures.length)} writing check(s) failed (listed above)`,
            1,
          );
        }
      }
    });
}

async function evaluateWriting(
  settings: Settings,
  options: TwinEvalOptions,
  models: readonly string[],
  perAuthor: number,
  maxNewTokens: number,
): Promise<FidelityReport> {
  const scratch = await mkdtemp(join(tmpdir(), 'twin-eval-writing-'));
  try {
    const source = await openSource(settings, options.corpus, join(scratch, 'source'));
    let set: WritingSet;
    try {
      set = await writingSetOf(source.warehouse, perAuthor);
      process.stderr.write(
        `Held out ${String(set.requests.length)} articles (${String(perAuthor)} per author: ${set.authors.join(', ')}); profiles from ${String(set.profilePassages.length)} passages of the others\n`,
      );
      // Retrieval reads every document but the held-out ones: the twin never sees the article it is asked to write.
      const retrievalSettings = await scratchSettings(join(scratch, 'retrieval'), {});
      const retrievalWarehouse = await openWarehouse(retrievalSettings);
      try {
        await copyAllBut(source.warehouse, retrievalWarehouse, set.heldOutIds);
      } finally {
        await retrievalWarehouse.close();
      }
    } finally {
      await source.close();
    }
    const twin = options.twin ? await twinRun(settings.dataDir, options.twin) : undefined;
    return await answerAndScore(scratch, set, options, models, perAuthor, maxNewTokens, twin);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function answerAndScore(
  scratch: string,
  set: WritingSet,
  options: TwinEvalOptions,
  models: readonly string[],
  perAuthor: number,
  maxNewTokens: number,
  twin: ModelRun | undefined,
): Promise<FidelityReport> {
  const base = await scratchSettings(join(scratch, 'retrieval'), {});
  const warehouse = await openWarehouse(base);
  try {
    const services = await openFeatureServices(base);
    try {
      process.stderr.write('Featurising the corpus without the held-out articles\n');
      await runFeaturePipeline({ warehouse, ...services }, {}, progressBar());
      const style = StyleModel.fit(set.profilePassages);
      const answers: WritingAnswer[] = [];
      const likelihoods: HeldOutLikelihood[] = [];
      const systems: FidelityReport['systems'] = [];
      const runs: ModelRun[] = [
        ...models.map((file) => ({ file, label: basename(file, '.gguf'), withoutRag: true })),
        // The layout its chat template replaces, to show what the template is worth (RAG only).
        ...(options.compareLayouts
          ? models.map((file) => ({
              file,
              label: `${basename(file, '.gguf')} · Alpaca layout`,
              withoutRag: false,
              layout: 'alpaca' as const,
            }))
          : []),
        ...(twin ? [twin] : []),
      ];
      for (const run of runs) {
        const scratchRun = await scratchSettings(join(scratch, 'retrieval'), {
          TWIN_GENERATOR: 'local',
          TWIN_GENERATOR_GGUF: run.file,
          ...(run.layout ? { TWIN_GENERATOR_PROMPT_LAYOUT: run.layout } : {}),
          TWIN_GENERATION_MAX_NEW_TOKENS: String(maxNewTokens),
          TWIN_GENERATOR_SEQUENCES: '1',
          // The same requests get the same answers on every run: the tables and --check repeat.
          TWIN_GENERATION_SEED: '0',
          ...(options.maxInputTokens ? { TWIN_GENERATION_MAX_INPUT_TOKENS: options.maxInputTokens } : {}),
        });
        const settings =
          run.twin && scratchRun.generator.kind === 'local'
            ? { ...scratchRun, generator: { ...scratchRun.generator, twin: run.twin } }
            : scratchRun;
        const opened = await openModelSystems(
          settings,
          warehouse,
          services,
          run.label,
          run.withoutRag,
          options.rerank,
        );
        if (run.layout && !opened.llm.instructionTuned) {
          // A model without a chat template is served in the Alpaca layout already.
          await opened.close();
          continue;
        }
        try {
          process.stderr.write(`Answering ${String(set.requests.length)} requests with ${run.label}\n`);
          const bar = progressBar();
          answers.push(
            ...(await answerRequests(set, opened.systems, (done, total) =>
              bar({ stage: 'answers', done, total }),
            )),
          );
          systems.push(...opened.systems.map(({ name, model, rag }) => ({ name, model, rag })));
          const perplexityTokens = Number(options.perplexityTokens);
          // The same weights read the same passages whatever the layout: measured once per model.
          if (perplexityTokens > 0 && !run.layout) {
            const names = opened.systems.map((system) => system.name);
            const read = progressBar();
            for (const [index, request] of set.requests.entries()) {
              const { nll, tokens } = await opened.llm.negativeLogLikelihood(
                request.reference,
                perplexityTokens,
              );
              likelihoods.push({ systems: names, author: request.author, nll, tokens });
              read({ stage: 'perplexity', done: index + 1, total: set.requests.length });
            }
          }
        } finally {
          await opened.close();
        }
      }
      const judge =
        options.judge && openAiConfigured(base) ? await openJudge(base, options.judgeModel) : undefined;
      if (judge) process.stderr.write(`Asking ${judge.model} which text the author wrote, both ways round\n`);
      const rows = await scoreWriting(set, answers, style, services.embedder, likelihoods, judge);
      const generic = systems.find((system) => !system.rag)?.name;
      return {
        createdAt: new Date().toISOString(),
        requestsPerAuthor: perAuthor,
        maxNewTokens,
        systems,
        rows,
        sanity: sanityChecks(set, answers, style, generic),
        answers,
        likelihoods,
        seconds: 0,
      };
    } finally {
      await services.close();
    }
  } finally {
    await warehouse.close();
  }
}

/**
 * One model as the service runs it: with retrieval (the served path, the held-out articles absent),
 * and, for a stock model, without (a retriever that finds nothing: the prompt says so).
 */
/**
 * `--twin`: a version of the local registry (its adapter on the base it was trained on, with and
 * without retrieval, like the stock models), or a GGUF file of a merged twin (with retrieval).
 */
async function twinRun(dataDir: string, twin: string): Promise<ModelRun> {
  if (twin.endsWith('.gguf'))
    return { file: resolve(twin), label: `twin ${basename(twin, '.gguf')}`, withoutRag: false };
  const registered = (await listTwins(dataDir)).find((candidate) => candidate.lineage.version === twin);
  if (!registered) {
    throw new InvalidInputError(
      `--twin ${twin}: neither a .gguf file nor a version of \`twin models\``,
      'twin',
    );
  }
  const { lineage } = registered;
  return {
    file: lineage.base.file,
    label: `twin ${lineage.version}`,
    withoutRag: true,
    twin: { version: lineage.version, adapters: twinAdapters(registered) },
  };
}

async function openModelSystems(
  settings: Settings,
  authors: Warehouse,
  featureServices: {
    embedder: Embedder;
    features: Awaited<ReturnType<typeof openFeatureServices>>['features'];
  },
  label: string,
  withoutRag: boolean,
  rerank: boolean,
): Promise<{ systems: WritingSystem[]; llm: LocalLlm; close(): Promise<void> }> {
  if (settings.generator.kind !== 'local') throw new Error(`${label} is not a local model`);
  const opened = await openRetriever(settings, { authors, featureServices, queryModel: null });
  const generator = await openGenerator(settings);
  if (!generator) throw new Error(`no generator for ${label}`);
  // The generator's own copy of the model (leases share one per process).
  const lease = await leaseLocalLlm(settings.generator);
  const budget = generator.promptBudget ?? {
    maxInputTokens: settings.generator.maxInputTokens,
    countTokens: (text: string) => text.length / 3,
  };
  let retrieved: RankedChunk[] = [];
  const recording: Pick<ContextRetriever, 'retrieve'> = {
    retrieve: async (query, retrievalOptions, trace) => {
      const retrieval = await opened.retriever.retrieve(query, retrievalOptions, trace);
      retrieved = retrieval.chunks;
      return retrieval;
    },
  };
  const nothing: Pick<ContextRetriever, 'retrieve'> = {
    retrieve: (query, retrievalOptions) =>
      Promise.resolve({
        chunks: [],
        author: {
          source: 'request',
          ...(retrievalOptions.author ? { authorName: retrievalOptions.author } : {}),
        },
        queries: [query],
        mode: retrievalOptions.mode,
        candidates: 0,
        reranked: false,
      }),
  };
  const service = (retriever: Pick<ContextRetriever, 'retrieve'>) =>
    new RagService({
      retriever,
      generator,
      defaults: { ...opened.defaults, expand: false, rerank },
      maxInputTokens: budget.maxInputTokens,
      countTokens: budget.countTokens,
      sinks: [],
      secrets: [],
    });
  const system = (name: string, rag: boolean, served: RagService): WritingSystem => ({
    name,
    model: generator.model,
    rag,
    answer: async (request: HeldOutRequest) => {
      retrieved = [];
      const started = performance.now();
      const reply = await served.answer({ query: request.query, author: request.author });
      const used = new Set(reply.sources.map((source) => source.chunk_id));
      return {
        text: reply.answer ?? '',
        flags: reply.flags,
        sources: rag ? retrieved.filter((chunk) => used.has(chunk.id)).map((chunk) => chunk.original) : [],
        seconds: (performance.now() - started) / 1000,
      };
    },
  });
  const systems = [
    ...(withoutRag ? [system(`${label} · no RAG`, false, service(nothing))] : []),
    system(`${label} · RAG`, true, service(recording)),
  ];
  return {
    systems,
    llm: lease.llm,
    close: async () => {
      await lease.release();
      await generator.close?.();
      await opened.close();
    },
  };
}

/** The pairwise authorship judge on the configured OpenAI-compatible API (deterministic, one-word replies). */
function openJudge(settings: Settings, model: string): Promise<OpenAiJsonModel> {
  return OpenAiJsonModel.create({
    model,
    temperature: 0,
    maxTokens: 20,
    maxRetries: 2,
    timeoutMs: 30_000,
    ...(settings.openAiBaseUrl ? { baseUrl: settings.openAiBaseUrl } : {}),
    ...(settings.secrets.OPENAI_API_KEY ? { apiKey: settings.secrets.OPENAI_API_KEY } : {}),
  });
}

async function openSource(
  settings: Settings,
  corpus: string | undefined,
  dir: string,
): Promise<{ warehouse: Warehouse; close(): Promise<void> }> {
  if (!corpus) {
    const warehouse = await openWarehouse(settings);
    return { warehouse, close: () => warehouse.close() };
  }
  const warehouse = await openWarehouse(await scratchSettings(dir, {}));
  process.stderr.write(`Importing ${corpus}\n`);
  await importWarehouse(warehouse, openExportSource(corpus), progressBar());
  return { warehouse, close: () => warehouse.close() };
}

/** Copies the authors and every document except `excluded` into another warehouse. */
async function copyAllBut(from: Warehouse, to: Warehouse, excluded: ReadonlySet<string>): Promise<void> {
  for (const { id, ...name } of await from.listUsers()) await to.getOrCreateUser(name, id);
  for (const category of ['articles', 'posts', 'repositories'] as const) {
    const kept = [];
    for await (const document of from.streamDocuments({ category })) {
      if (!excluded.has(document.id)) kept.push(document);
    }
    await to.insertDocuments(kept);
  }
}

/** Settings over a scratch data folder (embedded warehouse and store), with `overrides`. */
function scratchSettings(dir: string, overrides: Record<string, string>): Promise<Settings> {
  return loadSettingsWithSecrets({
    ...process.env,
    TWIN_DATA_DIR: dir,
    TWIN_WAREHOUSE: 'embedded',
    TWIN_VECTOR_STORE: 'embedded',
    TWIN_QUERY_BACKEND: 'none',
    ...overrides,
  });
}
