import { parseDocument, stringify } from 'yaml';
import { z } from 'zod';
import { AuthorConfigSchema, parseAuthorConfig, type AuthorConfig } from '../collection/author-config.js';
import { normalizeLink } from '../collection/links.js';
import { InvalidInputError } from '../domain/index.js';
import type { ArtifactStore } from '../ports/artifact-store.js';

/** Where the lists live in the artifact bucket on AWS. */
export const AUTHOR_CONFIGS_PREFIX = 'author-configs/';

/** An author's saved links, with the file-name-safe id the config is stored under. */
export interface SavedAuthorLinks extends AuthorConfig {
  slug: string;
}

/** What a client sends to save an author's links; every link must be a crawlable URL. */
export const AuthorLinksBodySchema = AuthorConfigSchema.extend({
  links: z.array(z.string().trim().min(1, 'must not be blank').max(2048)).min(1).max(1000),
});

/** "Paul Iusztin" → "paul-iusztin": the config's file name, as in configs/authors. */
export function slugOf(author: string): string {
  const slug = author
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/gu, '');
  if (!slug) throw new InvalidInputError('the author name needs at least one letter or digit', 'author');
  return slug;
}

/**
 * Checks every link the way the crawler will read it (the error names `links.<i>`), and drops later
 * spellings of a link already listed. Links are kept as written: the ETL normalises them itself.
 */
export function checkedLinks(links: readonly string[]): string[] {
  const seen = new Set<string>();
  const kept: string[] = [];
  links.forEach((link, index) => {
    let normalised: string;
    try {
      normalised = normalizeLink(link);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new InvalidInputError(`links.${String(index)}: ${reason}`, `links.${String(index)}`);
    }
    if (seen.has(normalised)) return;
    seen.add(normalised);
    kept.push(link.trim());
  });
  return kept;
}

/**
 * The authors' link lists, one YAML file per author (`<slug>.yaml`, the format of configs/authors) in
 * an artifact store: a folder locally, the artifact bucket on AWS. Saving keeps a file's comments.
 */
export class AuthorLinksRepository {
  constructor(
    private readonly store: ArtifactStore,
    private readonly prefix = '',
  ) {}

  /** Every readable list, by file name; files that are not a valid config are named in `unreadable`. */
  async list(): Promise<{ authors: SavedAuthorLinks[]; unreadable: { file: string; error: string }[] }> {
    const keys = (await this.store.list(this.prefix)).filter((key) => /\.ya?ml$/u.test(key)).sort();
    const authors: SavedAuthorLinks[] = [];
    const unreadable: { file: string; error: string }[] = [];
    for (const key of keys) {
      try {
        const config = await this.readKey(key);
        if (config) authors.push(config);
      } catch (error) {
        unreadable.push({ file: key, error: error instanceof Error ? error.message : String(error) });
      }
    }
    return { authors, unreadable };
  }

  /** The list whose author has this name (case and spacing aside). */
  async find(author: string): Promise<SavedAuthorLinks | undefined> {
    const wanted = sameName(author);
    return (await this.list()).authors.find((saved) => sameName(saved.author) === wanted);
  }

  /** Creates or replaces the author's list (in its existing file, if any); returns what was stored. */
  async save(config: AuthorConfig): Promise<SavedAuthorLinks> {
    const links = checkedLinks(config.links);
    const slug = (await this.find(config.author))?.slug ?? slugOf(config.author);
    const key = this.keyOf(slug);
    const existing = await this.store.read(key);
    const saved = { author: config.author, links };
    await this.store.write(key, existing === undefined ? stringify(saved) : updatedYaml(existing, saved));
    return { slug, ...saved };
  }

  private keyOf(slug: string): string {
    return `${this.prefix}${slug}.yaml`;
  }

  private async readKey(key: string): Promise<SavedAuthorLinks | undefined> {
    const text = await this.store.read(key);
    if (text === undefined) return undefined;
    const config = parseAuthorConfig(text, key);
    return { slug: key.slice(this.prefix.length).replace(/\.ya?ml$/u, ''), ...config };
  }
}

/** Two spellings of one author's name match when case and spacing aside they are the same. */
export const sameName = (name: string) => name.trim().replace(/\s+/gu, ' ').toLowerCase();

/** The file with its author and links replaced, comments kept; a fresh file if it cannot be read. */
function updatedYaml(text: string, config: AuthorConfig): string {
  const document = parseDocument(text);
  if (document.errors.length > 0 || document.contents === null) return stringify(config);
  document.set('author', config.author);
  document.set('links', config.links);
  return document.toString();
}
