import { CATEGORIES } from '../domain/index.js';
import type { FeatureCounts } from '../features/feature-store.js';
import type { FeatureRunSummary } from '../features/pipeline.js';
import type { WarehouseStats } from '../ports/warehouse.js';
import type { ImportReport } from '../warehouse/import.js';

export function formatStats(stats: WarehouseStats, location: string): string {
  const lines = [`Warehouse (${location})`, `  users: ${stats.users}`];
  for (const category of CATEGORIES) {
    const { total, byAuthor } = stats.categories[category];
    lines.push(`  ${category}: ${total}`);
    for (const [author, count] of Object.entries(byAuthor)) lines.push(`    ${author}: ${count}`);
  }
  return lines.join('\n');
}

export function formatImport(report: ImportReport): string {
  const { users } = report;
  const lines = [
    `Imported ${report.source}`,
    `  users: ${users.created} created, ${users.existing} already there` +
      (users.remapped ? ` (${users.remapped} matched by name to an existing id)` : ''),
  ];
  for (const category of CATEGORIES) {
    const { inserted, skipped } = report.documents[category];
    lines.push(`  ${category}: ${inserted} inserted, ${skipped} already there`);
  }
  if (report.missingFiles.length > 0)
    lines.push(`  not in the export (treated as empty): ${report.missingFiles.join(', ')}`);
  return lines.join('\n');
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function formatFeatureRun(summary: FeatureRunSummary): string {
  const lines = [`Feature pipeline finished in ${seconds(summary.totalMs)}`];
  for (const category of CATEGORIES) {
    const report = summary.categories[category];
    if (report.documents === 0) continue;
    lines.push(
      `  ${category}: ${report.documents} documents, ${report.processed} processed into ${report.chunks} embedded chunks, ${report.unchanged} unchanged`,
    );
    for (const [author, count] of Object.entries(report.byAuthor)) lines.push(`    ${author}: ${count}`);
    const { readMs, cleanMs, chunkMs, embedMs, loadMs } = report.timings;
    lines.push(
      `    time: read ${seconds(readMs)}, clean ${seconds(cleanMs)}, chunk ${seconds(chunkMs)}, embed ${seconds(embedMs)}, load ${seconds(loadMs)}`,
    );
  }
  if (lines.length === 1) lines.push('  no documents (import or crawl some first: twin warehouse import)');
  return lines.join('\n');
}

export function formatFeatureCounts(counts: FeatureCounts, location: string): string {
  const lines = [`Feature store (${location})`];
  for (const category of CATEGORIES) {
    lines.push(
      `  ${category}: ${counts.cleaned[category]} cleaned documents, ${counts.embedded[category]} embedded chunks`,
    );
  }
  return lines.join('\n');
}
