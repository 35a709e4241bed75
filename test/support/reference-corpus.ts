import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { documentFromRecord, type DocumentOf } from '../../lambdas/domain/index.js';
import { REFERENCE_WAREHOUSE_DIR } from './environment.js';

/** The 76 real crawled articles of the reference warehouse export, as domain documents. */
export function referenceArticles(): DocumentOf<'articles'>[] {
  const records = JSON.parse(
    readFileSync(join(REFERENCE_WAREHOUSE_DIR, 'ArticleDocument.json'), 'utf8'),
  ) as unknown[];
  return records.map((record) => documentFromRecord('articles', record));
}
