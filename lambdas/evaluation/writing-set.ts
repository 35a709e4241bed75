import { createHash } from 'node:crypto';
import { InvalidInputError } from '../domain/index.js';
import type { ReferencePassage } from './stylometry.js';

/** An article as the writing evaluation reads it. */
export interface WritingArticle {
  id: string;
  author: string;
  title: string;
  /** The article's text as crawled (paragraphs separated by blank lines). */
  content: string;
}

/** Words per passage: about what a twin writes for one request, so texts compare at equal length. */
export const PASSAGE_WORDS = 150;
/** A paragraph shorter than this is navigation, a caption or a heading, not prose. */
const MIN_PARAGRAPH_WORDS = 20;
/** Articles an author keeps for their profile at the least, beyond the held-out ones. */
export const MIN_PROFILE_ARTICLES = 5;

/**
 * The article's prose as passages of about PASSAGE_WORDS words: paragraphs of at least 20 words that
 * are mostly letters (menus, headings, code and tables are not the author's prose), packed in order
 * and cut at a paragraph's end once long enough.
 */
export function prosePassages(content: string, words = PASSAGE_WORDS): string[] {
  const paragraphs = content
    .split(/\n\s*\n/u)
    .map((paragraph) => paragraph.replace(/\s+/gu, ' ').trim())
    .filter((paragraph) => isProse(paragraph));
  const passages: string[] = [];
  let current: string[] = [];
  let count = 0;
  for (const paragraph of paragraphs) {
    const paragraphWords = paragraph.split(' ');
    for (let from = 0; from < paragraphWords.length; from += words) {
      const piece = paragraphWords.slice(from, from + words);
      current.push(piece.join(' '));
      count += piece.length;
      if (count >= words) {
        passages.push(clip(current.join('\n\n'), words));
        current = [];
        count = 0;
      }
    }
  }
  return passages;
}

function isProse(paragraph: string): boolean {
  const words = paragraph.split(' ').filter((word) => /\p{L}{2,}/u.test(word));
  if (words.length < MIN_PARAGRAPH_WORDS) return false;
  const letters = (paragraph.match(/[\p{L}\s]/gu) ?? []).length;
  return letters / paragraph.length >= 0.8;
}

function clip(text: string, words: number): string {
  let seen = 0;
  let end = text.length;
  const pattern = /\S+/gu;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    seen += 1;
    if (seen === words) {
      end = match.index + match[0].length;
      break;
    }
  }
  return text.slice(0, end);
}

/**
 * The topic of an article as a writer would name it: the title without the author's name or a
 * newsletter's tag ("Maxime Labonne - ", "DML: "), which would tell the model whose style to copy.
 */
export function topicOf(article: Pick<WritingArticle, 'title' | 'author'>): string {
  const name = article.author.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');
  return article.title
    .replace(new RegExp(`^\\s*${name}\\s*[-–—|:]\\s*|\\s*[-–—|:]\\s*${name}\\s*$`, 'iu'), '')
    .replace(/^[A-Z]{2,5}:\s*/u, '')
    .trim();
}

/** The writing request for a held-out article: its topic, for the author named in the request. */
export function writingRequest(article: Pick<WritingArticle, 'title' | 'author'>): string {
  return `Write a short blog post about "${topicOf(article)}".`;
}

export interface HeldOutRequest {
  article: WritingArticle;
  author: string;
  query: string;
  /** The article's first prose passage: the author's own answer to the request (the ceiling). */
  reference: string;
}

export interface WritingSet {
  authors: string[];
  /** Per author, the held-out articles as requests, in a fixed order. */
  requests: HeldOutRequest[];
  /** The passages of every article not held out: the profiles are built from these. */
  profilePassages: ReferencePassage[];
  /** Ids of the held-out articles: kept out of retrieval and the training datasets. */
  heldOutIds: Set<string>;
}

/**
 * Leave-article-out: for each author, `perAuthor` articles (with prose) held out, chosen by a hash of
 * their id, so the choice is the same on every machine and does not move when articles are added. An
 * author without enough articles for that and a profile is refused, with the counts.
 */
export function buildWritingSet(articles: readonly WritingArticle[], perAuthor: number): WritingSet {
  const byAuthor = new Map<string, WritingArticle[]>();
  for (const article of articles) {
    if (prosePassages(article.content).length === 0) continue;
    byAuthor.set(article.author, [...(byAuthor.get(article.author) ?? []), article]);
  }
  const authors = [...byAuthor.keys()].sort();
  if (authors.length < 2) {
    throw new InvalidInputError(
      `the writing evaluation compares authors: it needs articles with prose by at least 2, found ${String(authors.length)}`,
      'authors',
    );
  }
  const requests: HeldOutRequest[] = [];
  const heldOutIds = new Set<string>();
  for (const author of authors) {
    const own = [...(byAuthor.get(author) ?? [])].sort((a, b) =>
      holdOutRank(a.id) < holdOutRank(b.id) ? -1 : 1,
    );
    const needed = perAuthor + MIN_PROFILE_ARTICLES;
    if (own.length < needed) {
      throw new InvalidInputError(
        `${author} has ${String(own.length)} articles with prose; holding out ${String(perAuthor)} and keeping ${String(MIN_PROFILE_ARTICLES)} for the profile needs ${String(needed)}`,
        'requests',
      );
    }
    for (const article of own.slice(0, perAuthor)) {
      heldOutIds.add(article.id);
      requests.push({
        article,
        author,
        query: writingRequest(article),
        reference: prosePassages(article.content)[0] ?? '',
      });
    }
  }
  const profilePassages = articles
    .filter((article) => !heldOutIds.has(article.id))
    .flatMap((article) => prosePassages(article.content).map((text) => ({ author: article.author, text })));
  return { authors, requests, profilePassages, heldOutIds };
}

function holdOutRank(id: string): string {
  return createHash('sha256').update(`held-out:${id}`).digest('hex');
}
