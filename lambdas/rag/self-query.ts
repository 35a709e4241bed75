import { z } from 'zod';
import { fullNameOf, splitFullName } from '../domain/index.js';
import type { JsonChatModel } from '../ports/json-chat.js';
import type { Warehouse } from '../ports/warehouse.js';
import { parseJsonOrUndefined } from '../shared/json.js';

/** The only warehouse access the RAG service needs: finding an author, never creating one. */
export type AuthorDirectory = Pick<Warehouse, 'findUserByName' | 'findUserById'>;

export interface AuthorFilter {
  authorId?: string;
  authorName?: string;
  /** Where the filter came from, or why there is none. */
  source: 'request' | 'self-query' | 'none';
  note?: string;
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
    return { source: 'none', note: `author "${nameOrId}" is not in the warehouse; searching all authors` };
  return { authorId: user.id, authorName: fullNameOf(user), source };
}

/**
 * Self-query (SYSTEM.md §6): the query model says which author the request names, if any, and the
 * warehouse turns that into an id to filter by. A failed or unreadable reply means no filter.
 */
export async function selfQuery(
  model: JsonChatModel,
  directory: AuthorDirectory,
  query: string,
): Promise<AuthorFilter> {
  let reply: string;
  try {
    reply = (await model.completeJson(selfQueryPrompt(query))).text;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { source: 'none', note: `self-query failed (${reason}); searching all authors` };
  }
  const parsed = SelfQueryReplySchema.safeParse(parseJsonOrUndefined(reply));
  if (!parsed.success)
    return { source: 'none', note: 'self-query reply was unreadable; searching all authors' };
  const named = parsed.data.author;
  if (named === null || named === '' || /^none$/iu.test(named)) return { source: 'none' };
  return lookUpAuthor(directory, named, 'self-query');
}
