import type { AuthorConfig } from '../collection/author-config.js';
import { sameName, type AuthorLinksRepository } from '../workspace/author-links.js';

export interface GatheredAuthors {
  /** Every author to collect, once each. */
  authors: AuthorConfig[];
  /** The authors whose list came from the saved lists. */
  saved: string[];
  /** Saved files that are not valid author configs: skipped, and named so someone fixes them. */
  unreadable: { file: string; error: string }[];
}

/**
 * The authors a continuous-training run collects: the lists it was started with (configs/authors, baked
 * into the schedule at synth) and the lists saved from the web app. A saved list replaces a started-with
 * list of the same author, since it is the later edit; saved authors new to the run are added after.
 */
export async function gatherAuthors(
  startedWith: readonly AuthorConfig[],
  savedLists: Pick<AuthorLinksRepository, 'list'>,
): Promise<GatheredAuthors> {
  const { authors: saved, unreadable } = await savedLists.list();
  const savedByName = new Map(saved.map(({ author, links }) => [sameName(author), { author, links }]));
  const authors: AuthorConfig[] = [];
  const seen = new Set<string>();
  for (const config of [...startedWith, ...saved]) {
    const name = sameName(config.author);
    if (seen.has(name)) continue;
    seen.add(name);
    authors.push(savedByName.get(name) ?? { author: config.author, links: [...config.links] });
  }
  return { authors, saved: saved.map(({ author }) => author), unreadable };
}
