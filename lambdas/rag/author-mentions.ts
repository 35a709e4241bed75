import { foldForMatching, fullNameOf, type User } from '../domain/index.js';

/**
 * Offline author detection: which known authors a request names, without a language model. Names
 * are compared as whole words, ignoring case, accents and possessives ("Maxime Labonne's take",
 * "write like paul iusztin", "Müller" = "Muller"). Only full names count: a first name alone is too
 * often another person, or an ordinary word.
 */

export type MentionMatch =
  | { kind: 'one'; user: User }
  | { kind: 'several'; names: string[] }
  | { kind: 'unknown'; name: string }
  | { kind: 'none' };

/**
 * A name the request seems to ask for but no known author has: two capitalised words after "like",
 * "as" or "by", or before a possessive ("Jane Doe's"). Used only to say why there is no
 * filter; it never filters.
 */
const NAMED_PERSON =
  /(?:\b(?:like|as|by)\s+(\p{Lu}\p{Ll}+\s+\p{Lu}[\p{L}-]+)|(\p{Lu}\p{Ll}+\s+\p{Lu}[\p{L}-]+)['’]s\b)/u;

export function findMentionedAuthor(request: string, users: readonly User[]): MentionMatch {
  const folded = ` ${foldForMatching(request)} `;
  const named = new Map<string, User>();
  for (const user of users) {
    const name = foldForMatching(fullNameOf(user));
    if (name !== '' && folded.includes(` ${name} `)) named.set(user.id, user);
  }
  const found = [...named.values()];
  if (found.length === 1 && found[0]) return { kind: 'one', user: found[0] };
  if (found.length > 1) return { kind: 'several', names: found.map((user) => fullNameOf(user)).sort() };
  const person = NAMED_PERSON.exec(request);
  const name = person?.[1] ?? person?.[2];
  return name ? { kind: 'unknown', name } : { kind: 'none' };
}
