import type { ExportArchive } from './archive.js';

export const EXPORT_PLATFORMS = ['linkedin', 'medium', 'substack'] as const;
export type ExportPlatform = (typeof EXPORT_PLATFORMS)[number];

/** Why an entry of an export was left out on purpose (not an error). */
export type SkipReason = 'draft' | 'comment' | 'repost without your own text' | 'empty';

/** One piece of writing found in an export, before it is given an author. */
export type ExportedItem =
  | {
      category: 'articles';
      link: string;
      title: string | null;
      subtitle: string | null;
      text: string;
      publishedAt?: string;
    }
  | { category: 'posts'; link?: string; text: string; image?: string; publishedAt?: string };

export interface ExportProblem {
  /** The file inside the export, and the line for a CSV row. */
  file: string;
  line?: number;
  reason: string;
}

export interface ExportReading {
  items: ExportedItem[];
  skipped: Partial<Record<SkipReason, number>>;
  problems: ExportProblem[];
}

export interface ReadOptions {
  /** The publication's address, for exports that do not name it (Substack's). */
  site?: string;
}

/** One platform's export layout: how to recognise it and how to read it. */
export interface ExportReader {
  platform: ExportPlatform;
  /** Whether the archive's files are laid out as this platform exports them. */
  recognizes(paths: readonly string[]): boolean;
  read(archive: ExportArchive, options: ReadOptions): Promise<ExportReading>;
}

/** Tallies what one reader found. */
export class ReadingTally {
  readonly items: ExportedItem[] = [];
  readonly skipped: Partial<Record<SkipReason, number>> = {};
  readonly problems: ExportProblem[] = [];

  skip(reason: SkipReason): void {
    this.skipped[reason] = (this.skipped[reason] ?? 0) + 1;
  }

  result(): ExportReading {
    return { items: this.items, skipped: this.skipped, problems: this.problems };
  }
}

/** Files at a path that ends with `suffix` (exports sit under a top folder or not, depending on the tool). */
export function filesEndingWith(paths: readonly string[], pattern: RegExp): string[] {
  return paths.filter((path) => pattern.test(path)).sort();
}

/** A date an export gives ("2024-05-04 10:22:33", ISO 8601, RFC 2822) as ISO 8601 in UTC. */
export function isoDate(value: string | null | undefined): { publishedAt?: string } {
  const text = value?.trim();
  if (!text) return {};
  const plain = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(:\d{2})?)(\.\d+)?$/u.exec(text);
  const time = Date.parse(plain ? `${plain[1] ?? ''}T${plain[2] ?? ''}Z` : text);
  return Number.isNaN(time) ? {} : { publishedAt: new Date(time).toISOString() };
}
