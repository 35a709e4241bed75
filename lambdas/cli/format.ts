import { CATEGORIES } from '../domain/index.js';
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
