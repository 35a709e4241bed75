import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** In CI a missing server, browser, model or data set is a failure, never a silent skip. */
export const IN_CI = process.env.CI === 'true';

/** The shared reference data (real crawled corpus, labelled evaluation set): beside the clone by default. */
export const REFERENCE_DATA_DIR = resolve(
  process.env.TWIN_REFERENCE_DATA ?? join(REPO_ROOT, '..', 'shared', 'data'),
);
export const REFERENCE_WAREHOUSE_DIR = join(REFERENCE_DATA_DIR, 'handbook-warehouse');

export function referenceCorpusAvailable(): boolean {
  const available = existsSync(join(REFERENCE_WAREHOUSE_DIR, 'ArticleDocument.json'));
  if (!available && IN_CI) {
    throw new Error(
      `reference corpus not found at ${REFERENCE_WAREHOUSE_DIR}; set TWIN_REFERENCE_DATA to the shared data folder`,
    );
  }
  return available;
}
