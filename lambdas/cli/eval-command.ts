import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { openWarehouse } from '../adapters/warehouse/index.js';
import {
  InvalidInputError,
  RETRIEVAL_MODES,
  describeZodIssues,
  type RetrievalMode,
} from '../domain/index.js';
import {
  SEARCH_DEPTH,
  evaluateRetrieval,
  formatComparison,
  formatEvaluation,
  readGoldenSet,
  type GoldenQuestion,
  type RetrievalEvaluation,
} from '../evaluation/retrieval.js';
import {
  SINGLE_MODES,
  formatFusionSelection,
  selectFusion,
  type FusionSelection,
} from '../evaluation/fusion-selection.js';
import { runFeaturePipeline } from '../features/pipeline.js';
import { memoizedEmbedder } from '../evaluation/memoized-embedder.js';
import { openIndexingVariants } from './indexing-variants.js';
import { openFeatureServices } from '../features/services.js';
import { openRetriever } from '../rag/open-service.js';
import { loadSettingsWithSecrets, type Settings } from '../settings/index.js';
import { importWarehouse } from '../warehouse/import.js';
import { openExportSource } from '../warehouse/sources.js';
import { IncompleteResultError, cliSettings, type GlobalOptions } from './context.js';
import { progressBar } from './progress-bar.js';
import { addTwinEvaluation } from './eval-twin-command.js';

interface RetrievalCommandOptions {
  golden: string;
  corpus?: string;
  store?: 'embedded' | 'qdrant';
  mode?: RetrievalMode;
  k: string;
  expand: boolean;
  rerank: boolean;
  compare?: boolean;
  folds?: string;
  floors?: string;
  out?: string;
  json?: boolean;
}

const share = z.number().min(0).max(1);
const ModeFloorSchema = z.strictObject({ mrr: share, recall_9: share });
/**
 * Per mode, the lowest MRR and recall@9 the dev set may score, and the lowest cross-validated MRR of
 * the fusion choice (configs/eval/retrieval-floors.json).
 */
const FloorsSchema = z.strictObject({
  dense: ModeFloorSchema.optional(),
  lexical: ModeFloorSchema.optional(),
  hybrid: ModeFloorSchema.optional(),
  cross_validated: z.strictObject({ mrr: share }).optional(),
});
type Floors = z.infer<typeof FloorsSchema>;
/** How far below its floor a mode may score before the check fails (run-to-run noise is smaller). */
const FLOOR_TOLERANCE = 0.01;

export function evalCommand(globals: () => GlobalOptions): Command {
  const evaluation = new Command('eval').description('measure the pipelines on labelled data');
  evaluation
    .command('retrieval')
    .description(
      'recall@k, MRR and evidence hit-rate of the retriever the service runs, over a labelled question set',
    )
    .requiredOption(
      '--golden <file>',
      'labelled questions, JSON Lines (id, query, author_full_name, mentions_author, relevant_links, evidence, kind)',
    )
    .option(
      '--corpus <export>',
      'a warehouse export (folder or URL) to import and featurise into a scratch feature store first; without it, the configured feature store is evaluated',
    )
    .addOption(
      new Option(
        '--store <kind>',
        'with --corpus: the scratch feature store (qdrant: throwaway collections in the Qdrant at QDRANT_URL)',
      )
        .choices(['embedded', 'qdrant'])
        .default('embedded'),
    )
    .addOption(new Option('--mode <mode>', 'search mode (default: TWIN_RAG_MODE)').choices(RETRIEVAL_MODES))
    .option('-k, --k <n>', 'chunks retrieved per question (the depth the metrics rank)', String(SEARCH_DEPTH))
    .option('--no-expand', 'skip query expansion')
    .option('--no-rerank', 'skip reranking')
    .option('--compare', 'evaluate dense, lexical and hybrid search side by side in one run')
    .option(
      '--folds <n>',
      'also cross-validate the hybrid fusion over n folds by source article (each fold scored by the fusion chosen on the others); exit 1 when the served hybrid scores below dense or lexical on any fold. Implies --compare',
    )
    .option(
      '--floors <file>',
      'JSON of the lowest MRR and recall@9 per mode; exit 1 when an evaluated mode falls more than 0.01 below',
    )
    .option('--out <file>', 'also write the full results (per question) as JSON')
    .option('--json', 'print the results as JSON instead of a table')
    .action(async (options: RetrievalCommandOptions) => {
      const k = Number(options.k);
      if (!Number.isInteger(k) || k < 1 || k > 200) {
        throw new InvalidInputError('--k must be a whole number from 1 to 200', 'k');
      }
      const folds = options.folds === undefined ? undefined : Number(options.folds);
      if (folds !== undefined && (!Number.isInteger(folds) || folds < 2 || folds > 20)) {
        throw new InvalidInputError('--folds must be a whole number from 2 to 20', 'folds');
      }
      const questions = await readGoldenSet(resolve(options.golden));
      if (folds !== undefined && questions.length < folds) {
        throw new InvalidInputError(
          `--folds ${String(folds)} needs at least ${String(folds)} questions; ${options.golden} holds ${String(questions.length)}`,
          'folds',
        );
      }
      const floors = options.floors ? await readFloors(resolve(options.floors)) : undefined;
      const scratch = options.corpus ? await scratchSettings(options.store ?? 'embedded') : undefined;
      try {
        const settings = scratch ? scratch.settings : await cliSettings(globals());
        const report = await evaluate(settings, questions, options, k, folds);
        if (options.out) {
          await mkdir(dirname(resolve(options.out)), { recursive: true });
          await writeFile(resolve(options.out), `${JSON.stringify(report.primary, null, 2)}\n`);
        }
        console.log(options.json ? JSON.stringify(report, null, 2) : formatReport(report));
        const failures = [
          ...(floors ? belowFloors(report, floors) : []),
          ...(report.fusion ? fusionLosses(report.fusion) : []),
        ];
        for (const failure of failures) console.error(`twin: ${failure}`);
        // Thrown, not process.exitCode: runCli's return value is the exit status.
        if (failures.length > 0) {
          throw new IncompleteResultError(
            `${String(failures.length)} retrieval check(s) failed (listed above); the tables are complete`,
            1,
          );
        }
        if (floors) console.log(`Every evaluated figure is at or above its floor (${options.floors ?? ''}).`);
      } finally {
        await scratch?.dispose();
      }
    });
  addTwinEvaluation(evaluation, globals);
  return evaluation;
}

interface EvaluationReport {
  /** The evaluation of the configured (or --mode) retriever: what --out writes. */
  primary: RetrievalEvaluation;
  /** Every mode evaluated in this run (one, or three with --compare). */
  byMode: Partial<Record<RetrievalMode, RetrievalEvaluation>>;
  /** With --folds: every fusion of the grid and the cross-validated choice among them. */
  fusion?: FusionSelection;
}

async function evaluate(
  settings: Settings,
  questions: readonly GoldenQuestion[],
  options: RetrievalCommandOptions,
  k: number,
  folds: number | undefined,
): Promise<EvaluationReport> {
  const warehouse = await openWarehouse(settings);
  try {
    const opened = await openFeatureServices(settings);
    // Every setting asks the same questions, and each keyword indexing embeds the same chunks.
    const services = { ...opened, embedder: memoizedEmbedder(opened.embedder) };
    try {
      if (options.corpus) {
        process.stderr.write(`Importing and featurising ${options.corpus} into a scratch feature store\n`);
        await importWarehouse(warehouse, openExportSource(options.corpus), progressBar());
        await runFeaturePipeline({ warehouse, ...services }, {}, progressBar());
      }
      const { retriever, defaults } = await openRetriever(settings, {
        authors: warehouse,
        featureServices: services,
      });
      const { maxQueryChars: _limit, ...served } = defaults;
      const primaryMode = options.mode ?? served.mode;
      const evaluated = {
        ...served,
        k,
        expand: options.expand && served.expand,
        rerank: options.rerank && served.rerank,
      };
      const details = { model: services.embedder.model.id };
      const announce = (name: string) => {
        process.stderr.write(`Evaluating ${name} on ${String(questions.length)} questions\n`);
        return progressBar();
      };
      if (folds !== undefined) {
        // The keyword indexing is chosen too, where a scratch store can be featurised again.
        const others = options.corpus
          ? await openIndexingVariants(settings, warehouse, services.embedder)
          : { variants: [], close: () => Promise.resolve() };
        const fusion = await selectFusion(
          [{ retriever }, ...others.variants],
          questions,
          evaluated,
          { ...details, folds },
          announce,
        ).finally(() => others.close());
        const byMode = {
          dense: fusion.evaluations.dense,
          lexical: fusion.evaluations.lexical,
          hybrid: fusion.evaluations[fusion.served],
        };
        const primary = byMode[primaryMode];
        if (!primary) throw new Error(`no evaluation of ${primaryMode}`);
        return { primary, byMode, fusion };
      }
      const modes = options.compare ? [...RETRIEVAL_MODES] : [primaryMode];
      const byMode: EvaluationReport['byMode'] = {};
      for (const mode of modes) {
        byMode[mode] = await evaluateRetrieval(
          retriever,
          questions,
          { ...evaluated, mode },
          details,
          announce(`${mode} search`),
        );
      }
      const primary = byMode[primaryMode];
      if (!primary) throw new Error(`no evaluation of ${primaryMode}`);
      return { primary, byMode };
    } finally {
      if (options.corpus && settings.vectorStore.kind === 'qdrant') await services.features.dropCollections();
      await services.close();
    }
  } finally {
    await warehouse.close();
  }
}

function formatReport(report: EvaluationReport): string {
  const rows = Object.entries(report.byMode).map(([name, evaluation]) => ({ name, evaluation }));
  const comparison =
    rows.length > 1 ? `\n\nSide by side, same questions and settings:\n${formatComparison(rows)}` : '';
  return `${formatEvaluation(report.primary)}${comparison}${report.fusion ? `\n\n${formatFusionSelection(report.fusion)}` : ''}`;
}

/** A scratch data folder, and for Qdrant a throwaway collection prefix, removed afterwards. */
async function scratchSettings(store: 'embedded' | 'qdrant') {
  const dir = await mkdtemp(join(tmpdir(), 'twin-eval-'));
  const settings = await loadSettingsWithSecrets({
    ...process.env,
    TWIN_DATA_DIR: dir,
    TWIN_WAREHOUSE: 'embedded',
    TWIN_VECTOR_STORE: store,
    ...(store === 'qdrant' ? { TWIN_COLLECTION_PREFIX: `twin_eval_${randomUUID().slice(0, 8)}_` } : {}),
  });
  return { settings, dispose: () => rm(dir, { recursive: true, force: true }) };
}

async function readFloors(file: string): Promise<Floors> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new InvalidInputError(
      `${file}: ${error instanceof Error ? error.message : String(error)}`,
      'floors',
    );
  }
  const parsed = FloorsSchema.safeParse(json);
  if (!parsed.success)
    throw new InvalidInputError(`${file}: ${describeZodIssues(parsed.error).join('; ')}`, 'floors');
  return parsed.data;
}

/**
 * One line per metric of an evaluated mode, and for the cross-validated MRR, that fell more than the
 * tolerance below its floor.
 */
export function belowFloors(report: Pick<EvaluationReport, 'byMode' | 'fusion'>, floors: Floors): string[] {
  const failures: string[] = [];
  const crossValidated = report.fusion?.validation.crossValidatedMrr;
  if (crossValidated !== undefined && floors.cross_validated) {
    const floor = floors.cross_validated.mrr;
    if (crossValidated < floor - FLOOR_TOLERANCE) {
      failures.push(
        `cross-validated MRR ${crossValidated.toFixed(3)} is below its floor ${floor.toFixed(3)} (by more than ${String(FLOOR_TOLERANCE)})`,
      );
    }
  }
  for (const [mode, evaluation] of Object.entries(report.byMode) as [RetrievalMode, RetrievalEvaluation][]) {
    const floor = floors[mode];
    if (!floor) continue;
    const measured = { mrr: evaluation.overall.mrr, recall_9: evaluation.overall.recall[9] ?? 0 };
    for (const metric of ['mrr', 'recall_9'] as const) {
      if (measured[metric] < floor[metric] - FLOOR_TOLERANCE) {
        failures.push(
          `${mode} ${metric} ${measured[metric].toFixed(3)} is below its floor ${floor[metric].toFixed(3)} (by more than ${String(FLOOR_TOLERANCE)})`,
        );
      }
    }
  }
  return failures;
}

/** One line per fold on which the served hybrid ranks worse than the better single mode. */
export function fusionLosses(selection: FusionSelection): string[] {
  return selection.servedBeatenOn.map((fold) => {
    const own = fold.mrrByName[selection.served] ?? 0;
    const best = Math.max(...SINGLE_MODES.map((mode) => fold.mrrByName[mode] ?? 0));
    return `fold ${String(fold.fold)}: the served hybrid (${selection.served}) MRR ${own.toFixed(3)} is below the better single mode’s ${best.toFixed(3)}`;
  });
}
