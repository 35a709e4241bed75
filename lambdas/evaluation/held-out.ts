import type { Warehouse } from '../ports/warehouse.js';
import { buildWritingSet, type WritingSet } from './writing-set.js';

/**
 * Articles per author that the writing evaluation holds out, and that the training datasets
 * therefore never learn from: the twin is measured on writing it was not trained on. The
 * evaluation may use fewer (`--requests`); the hash order makes those a subset of these.
 */
export const HELD_OUT_PER_AUTHOR = 8;

/** The leave-article-out writing set of a warehouse's articles (see buildWritingSet). */
export async function writingSetOf(warehouse: Warehouse, perAuthor: number): Promise<WritingSet> {
  const articles = [];
  for await (const article of warehouse.streamDocuments({ category: 'articles' })) {
    articles.push({
      id: article.id,
      author: article.authorFullName,
      title: article.content.Title ?? '',
      content: article.content.Content ?? Object.values(article.content).filter(Boolean).join('\n\n'),
    });
  }
  return buildWritingSet(articles, perAuthor);
}
