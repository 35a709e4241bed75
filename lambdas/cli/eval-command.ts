import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { openWarehouse } from '../adapters/warehouse/index.js';
import { evaluateRetrieval, formatEvaluation, readGoldenSet } from '../evaluation/retrieval.js';
import { runFeaturePipeline } from '../features/pipeline.js';
import { openFeatureServices } from '../features/services.js';
import { loadSettingsWithSecrets, type Settings } from '../settings/index.js';
import { importWarehouse } from '../warehouse/import.js';
import { openExportSource } from '../warehouse/sources.js';
import { cliSettings, type GlobalOptions } from './context.js';
import { progressBar } from './progress-bar.js';

interface RetrievalOptions {
  golden: string;
  corpus?: string;
  out?: string;
  json?: boolean;
}

export function evalCommand(globals: () => GlobalOptions): Command {
  const evaluation = new Command('eval').description('measure the pipelines on labelled data');
  evaluation
    .command('retrieval')
    .description('recall@k, MRR and evidence hit-rate of vector search over a labelled question set')
    .requiredOption(
      '--golden <file>',
      'labelled questions, JSON Lines (id, query, author_full_name, mentions_author, relevant_links, evidence, kind)',
    )
    .option(
      '--corpus <export>',
      'a warehouse export (folder or URL) to import and featurise into a scratch data folder first; without it, the configured feature store is evaluated',
    )
    .option('--out <file>', 'also write the full results (per question) as JSON')
    .option('--json', 'print the results as JSON instead of a table')
    .action(async (options: RetrievalOptions) => {
      const questions = await readGoldenSet(resolve(options.golden));
      const scratch = options.corpus ? await mkdtemp(join(tmpdir(), 'twin-eval-')) : undefined;
      try {
        const settings = scratch
          ? await loadSettingsWithSecrets({
              ...process.env,
              TWIN_DATA_DIR: scratch,
              TWIN_WAREHOUSE: 'embedded',
              TWIN_VECTOR_STORE: 'embedded',
            })
          : await cliSettings(globals());
        const result = await evaluate(settings, questions, options.corpus);
        if (options.out) {
          await mkdir(dirname(resolve(options.out)), { recursive: true });
          await writeFile(resolve(options.out), `${JSON.stringify(result, null, 2)}\n`);
        }
        console.log(options.json ? JSON.stringify(result, null, 2) : formatEvaluation(result));
      } finally {
        if (scratch) await rm(scratch, { recursive: true, force: true });
      }
    });
  return evaluation;
}

async function evaluate(
  settings: Settings,
  questions: Awaited<ReturnType<typeof readGoldenSet>>,
  corpus?: string,
) {
  const warehouse = await openWarehouse(settings);
  try {
    const services = await openFeatureServices(settings);
    try {
      if (corpus) {
        process.stderr.write(`Importing and featurising ${corpus} into a scratch folder\n`);
        await importWarehouse(warehouse, openExportSource(corpus), progressBar());
        await runFeaturePipeline({ warehouse, ...services }, {}, progressBar());
      }
      return await evaluateRetrieval({ warehouse, ...services }, questions, progressBar());
    } finally {
      await services.close();
    }
  } finally {
    await warehouse.close();
  }
}
