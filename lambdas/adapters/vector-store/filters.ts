import type { PointFilter } from '../../ports/vector-store.js';

/** An empty list in a filter matches no point; adapters answer without asking the database. */
export function matchesNothing(filter: PointFilter | undefined): boolean {
  return filter?.authorIds?.length === 0 || filter?.documentIds?.length === 0;
}

/** The payload field each filter condition tests. */
export function filterConditions(
  filter: PointFilter | undefined,
): { field: 'author_id' | 'document_id'; values: readonly string[] }[] {
  const conditions: { field: 'author_id' | 'document_id'; values: readonly string[] }[] = [];
  if (filter?.authorIds) conditions.push({ field: 'author_id', values: filter.authorIds });
  if (filter?.documentIds) conditions.push({ field: 'document_id', values: filter.documentIds });
  return conditions;
}

export const INDEXED_FIELDS = ['author_id', 'document_id'] as const;
