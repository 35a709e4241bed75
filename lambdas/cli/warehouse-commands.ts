import { resolve } from 'node:path';
import { Command } from 'commander';
import { exportWarehouse } from '../warehouse/export.js';
import { importWarehouse } from '../warehouse/import.js';
import { BOOK_EXPORT_URL, openExportSource } from '../warehouse/sources.js';
import type { Settings } from '../settings/index.js';
import { asOnlyWriter, withWarehouse, type GlobalOptions } from './context.js';
import { formatImport, formatStats } from './format.js';
import { progressBar } from './progress-bar.js';

const describeWarehouse = (settings: Settings): string =>
  settings.warehouse.kind === 'embedded'
    ? `embedded, ${settings.warehouse.file}`
    : `MongoDB, database ${settings.warehouse.database}`;

export function warehouseCommand(globals: () => GlobalOptions): Command {
  const warehouse = new Command('warehouse').description('the data warehouse of crawled documents');

  warehouse
    .command('import')
    .description(
      "import a warehouse export (the book's format: UserDocument.json, ArticleDocument.json, ...)",
    )
    .argument('[source]', 'a local folder or the http(s) URL of a published export folder', BOOK_EXPORT_URL)
    .action(async (source: string) => {
      await withWarehouse(globals(), (store, settings) =>
        asOnlyWriter(settings, 'twin warehouse import', async () => {
          process.stderr.write(`Importing ${source}\n`);
          const report = await importWarehouse(store, openExportSource(source), progressBar());
          console.log(formatImport(report));
          console.log(formatStats(await store.stats(), describeWarehouse(settings)));
        }),
      );
    });

  warehouse
    .command('export')
    .description("write the warehouse as an export folder in the book's format")
    .argument('<folder>', 'the folder to write (created if needed; export files in it are replaced)')
    .action(async (folder: string) => {
      await withWarehouse(globals(), async (store) => {
        const report = await exportWarehouse(store, resolve(folder), progressBar());
        const counts = Object.entries(report.documents).map(([category, n]) => `${n} ${category}`);
        console.log(`Exported ${report.users} users, ${counts.join(', ')} to ${report.folder}`);
      });
    });

  warehouse
    .command('stats')
    .description('count users and documents per category and author')
    .option('--json', 'print the counts as JSON')
    .action(async (options: { json?: boolean }) => {
      await withWarehouse(globals(), async (store, settings) => {
        const stats = await store.stats();
        console.log(
          options.json ? JSON.stringify(stats, null, 2) : formatStats(stats, describeWarehouse(settings)),
        );
      });
    });

  return warehouse;
}
