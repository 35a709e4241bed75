import { Command } from 'commander';
import { z } from 'zod';
import { readAuthorConfig } from '../collection/author-config.js';
import { openCrawlEnvironment } from '../collection/environment.js';
import { importExport, type ExportImportReport } from '../collection/exports/import.js';
import { EXPORT_PLATFORMS, type ExportPlatform } from '../collection/exports/reading.js';
import { crawlLinks, type EtlReport } from '../collection/pipeline.js';
import { fullNameOf, InvalidInputError } from '../domain/index.js';
import { asOnlyWriter, withWarehouse, type GlobalOptions } from './context.js';
import { progressBar } from './progress-bar.js';

interface EtlOptions {
  config?: string;
  author?: string;
  export?: string;
  platform?: string;
  site?: string;
  concurrency?: string;
  json?: boolean;
  allowLoopback?: boolean;
}

export function etlCommand(globals: () => GlobalOptions): Command {
  return new Command('etl')
    .description(
      "collect an author's articles, posts and repositories into the warehouse (links already there are skipped)",
    )
    .argument('[links...]', 'links to crawl (with --author)')
    .option('--config <file>', 'an author config: configs/authors/<name>.yaml')
    .option('--author <name>', 'the author of the links given as arguments ("First Last")')
    .option('--concurrency <n>', 'links crawled at once (default: TWIN_CRAWL_CONCURRENCY, 4)')
    .option(
      '--export <file>',
      'import a platform export instead of crawling: LinkedIn, Medium or Substack (the zip, or the folder it unpacks to); with --author',
    )
    .option(
      '--platform <name>',
      `the export's platform when its layout is not recognised: ${EXPORT_PLATFORMS.join(', ')}`,
    )
    .option('--site <url>', "a Substack export's publication address (https://<name>.substack.com)")
    .option('--json', 'print the per-link report as JSON')
    .option(
      '--allow-loopback',
      'also crawl sites on this machine (127.0.0.0/8, ::1): for local fixtures and development only',
    )
    .action(async (args: string[], options: EtlOptions) => {
      if (options.export) {
        await importExportCommand(globals(), args, options, options.export);
        return;
      }
      const { author, links } = await jobOf(args, options);
      await withWarehouse(globals(), async (warehouse, settings) => {
        const environment = openCrawlEnvironment(
          settings,
          options.allowLoopback ? { network: { allowLoopback: true } } : {},
        );
        try {
          const concurrency = options.concurrency ? Number(options.concurrency) : settings.crawl.concurrency;
          if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 16) {
            throw new InvalidInputError('--concurrency must be a whole number from 1 to 16', 'concurrency');
          }
          process.stderr.write(`Collecting ${String(links.length)} links for ${author}\n`);
          const report = await asOnlyWriter(settings, 'twin etl', () =>
            crawlLinks(
              warehouse,
              environment,
              author,
              links,
              { concurrency, perLinkTimeoutMs: 180_000 },
              progressBar(),
            ),
          );
          console.log(options.json ? JSON.stringify(report, null, 2) : formatEtl(report));
          if (report.results.every((result) => result.outcome === 'failed' || result.outcome === 'blocked')) {
            throw new Error(
              `none of the ${String(links.length)} links could be collected (see the reasons above)`,
            );
          }
        } finally {
          await environment.close();
        }
      });
    });
}

async function importExportCommand(
  globals: GlobalOptions,
  args: string[],
  options: EtlOptions,
  source: string,
): Promise<void> {
  if (args.length > 0 || options.config)
    throw new InvalidInputError(
      '--export imports one export: give no links and no --config with it',
      'export',
    );
  if (!options.author)
    throw new InvalidInputError('say whose writing the export holds: --author "First Last"', 'author');
  const platform = options.platform === undefined ? undefined : platformOf(options.platform);
  const author = options.author;
  await withWarehouse(globals, async (warehouse, settings) => {
    process.stderr.write(`Importing ${source} for ${author}\n`);
    const report = await asOnlyWriter(settings, 'twin etl --export', () =>
      importExport(warehouse, source, {
        author,
        ...(platform ? { platform } : {}),
        ...(options.site ? { site: options.site } : {}),
      }),
    );
    console.log(options.json ? JSON.stringify(report, null, 2) : formatImport(report));
  });
}

function platformOf(name: string): ExportPlatform {
  const parsed = z.enum(EXPORT_PLATFORMS).safeParse(name.toLowerCase());
  if (!parsed.success)
    throw new InvalidInputError(
      `--platform must be one of ${EXPORT_PLATFORMS.join(', ')}, not ${name}`,
      'platform',
    );
  return parsed.data;
}

function formatImport(report: ExportImportReport): string {
  const skipped = Object.entries(report.skipped).map(([reason, count]) => `${String(count)} ${reason}`);
  const lines = [
    `${report.platform} export for ${fullNameOf(report.author)}: ${String(report.found)} found, ${String(report.inserted)} inserted, ${String(report.alreadyThere)} already there`,
    `  skipped: ${skipped.length > 0 ? skipped.join(', ') : 'nothing'}`,
  ];
  if (report.problems.length > 0) lines.push('Not imported (the rest was):');
  for (const problem of report.problems)
    lines.push(`  ${problem.file}${problem.line ? ` line ${String(problem.line)}` : ''}: ${problem.reason}`);
  return lines.join('\n');
}

async function jobOf(args: string[], options: EtlOptions): Promise<{ author: string; links: string[] }> {
  if (options.config) {
    if (args.length > 0 || options.author)
      throw new InvalidInputError('give either --config or --author with links, not both', 'config');
    return readAuthorConfig(options.config).then(({ author, links }) => ({ author, links }));
  }
  if (!options.author || args.length === 0) {
    throw new InvalidInputError(
      'say what to collect: --config configs/authors/<name>.yaml, or --author "First Last" <links...>',
      'author',
    );
  }
  return { author: options.author, links: args };
}

function formatEtl(report: EtlReport): string {
  const count = (outcome: string) => report.results.filter((result) => result.outcome === outcome).length;
  const blockedCount = count('blocked') > 0 ? `${String(count('blocked'))} blocked, ` : '';
  const lines = [
    `ETL for ${fullNameOf(report.author)}: ${String(count('inserted'))} inserted, ${String(count('skipped'))} already there, ${blockedCount}${String(count('failed'))} failed`,
  ];
  for (const [domain, { successful, total }] of Object.entries(report.byDomain)) {
    lines.push(`  ${domain}: ${String(successful)}/${String(total)} successful`);
  }
  const crawlers = Object.entries(report.byCrawler).map(
    ([crawler, { links, documents }]) => `${crawler} ${String(links)} (${String(documents)} new)`,
  );
  lines.push(`  links per crawler: ${crawlers.join(', ')}`);
  for (const result of report.results.filter((each) => each.detail))
    lines.push(`  ${result.input}: ${result.detail ?? ''}`);
  const blocked = report.results.filter((result) => result.outcome === 'blocked');
  if (blocked.length > 0) lines.push('Blocked links (nothing stored; what works instead):');
  for (const result of blocked)
    lines.push(`  ${result.input}\n    ${result.reason ?? 'blocked'}\n    ${result.hint ?? ''}`);
  const failed = report.results.filter((result) => result.outcome === 'failed');
  if (failed.length > 0) lines.push('Failed links:');
  for (const result of failed) lines.push(`  ${result.input}\n    ${result.reason ?? 'unknown error'}`);
  return lines.join('\n');
}
