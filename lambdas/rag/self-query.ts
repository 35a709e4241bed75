import { z } from 'zod';
import { fullNameOf, splitFullName } from '../domain/index.js';
import type { JsonChatModel } from '../ports/json-chat.js';
import type { AuthorDirectory } from '../ports/warehouse.js';
import { parseJsonOrUndefined } from '../shared/json.js';
import { findMentionedAuthor } from './author-mentions.js';

export interface AuthorFilter {
  authorId?: string;
  authorName?: string;
  /**
   * Where the filter came from, or why there is none: the caller named the author, the query model
   * read the name from the request (self-query), or the request names a known author (name-match).
   */
  source: 'request' | 'self-query' | 'name-match' | 'none';
  note?: string;
  /** The request names an author the directory does not know. */
  unknown?: true;
}

/**
 * The author a request names, found offline by matching the warehouse's authors' full names. Several
 * or unknown names give no filter, and say so.
 */
export async function matchAuthorName(directory: AuthorDirectory, query: string): Promise<AuthorFilter> {
  const match = findMentionedAuthor(query, await directory.listUsers());
  switch (match.kind) {
    case 'one':
      return { authorId: match.user.id, authorName: fullNameOf(match.user), source: 'name-match' };
    case 'several':
      return {
        source: 'none',
        note: `the request names several authors (${match.names.join(', ')}); searching all authors`,
      };
    case 'unknown':
      return {
        source: 'none',
        note: `author "${match.name}" is not in the warehouse; searching all authors`,
        unknown: true,
      };
    case 'none':
      return { source: 'none' };
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/iu;

export function selfQueryPrompt(query: string): string {
  return [
    'A request was sent to an assistant that writes in the voice of one of several authors.',
    'Does the request name the author whose writing should be used, by full name or by user id?',
    'Answer with JSON only: {"author": "<the name or id exactly as written>"}, or {"author": null} when no author is named.',
    'Do not guess an author from the topic.',
    `Request:\n"""\n${query}\n"""`,
  ].join('\n');
}

const SelfQueryReplySchema = z.object({ author: z.string().trim().max(200).nullable() });
/** The reply's shape, for models that can be held to it (the zod schema above still validates). */
const SELF_QUERY_REPLY_SHAPE = {
  type: 'object',
  properties: { author: { oneOf: [{ type: 'string', maxLength: 200 }, { type: 'null' }] } },
} as const;

/** Finds a named author in the warehouse by id or full name; an unknown one is no filter, said why. */
export async function lookUpAuthor(
  directory: AuthorDirectory,
  nameOrId: string,
  source: 'request' | 'self-query',
): Promise<AuthorFilter> {
  const user = UUID.test(nameOrId)
    ? await directory.findUserById(nameOrId.toLowerCase())
    : await directory.findUserByName(splitFullName(nameOrId));
  if (!user)
    return {
      source: 'none',
      note: `author "${nameOrId}" is not in the warehouse; searching all authors`,
      unknown: true,
    };
  return { authorId: user.id, authorName: fullNameOf(user), source };
}

function withNote(filter: AuthorFilter, note: string): AuthorFilter {
  return { ...filter, note: filter.note ? `${note}; ${filter.note}` : note };
}

/**
 * Self-query (SYSTEM.md §6): the query model says which author the request names, if any, and the
 * warehouse turns that into an id to filter by. When the model fails or its reply is unreadable,
 * the offline name match decides instead.
 */
export async function selfQuery(
  model: JsonChatModel,
  directory: AuthorDirectory,
  query: string,
): Promise<AuthorFilter> {
  let reply: string;
  try {
    reply = (await model.completeJson(selfQueryPrompt(query), SELF_QUERY_REPLY_SHAPE)).text;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return withNote(
      await matchAuthorName(directory, query),
      `self-query failed (${reason}); matched names instead`,
    );
  }
  const parsed = SelfQueryReplySchema.safeParse(parseJsonOrUndefined(reply));
  if (!parsed.success)
    return withNote(
      await matchAuthorName(directory, query),
      'self-query reply was unreadable; matched names instead',
    );
  const named = parsed.data.author;
  if (named === null || named === '' || /^none$/iu.test(named)) return { source: 'none' };
  return lookUpAuthor(directory, named, 'self-query');
}
