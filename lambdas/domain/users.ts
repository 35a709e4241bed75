import { z } from 'zod';
import { InvalidInputError } from './errors.js';

export const Uuid4Schema = z.uuidv4({ error: 'must be a UUID version 4 string' });

export const PersonNameSchema = z.object({
  firstName: z.string().trim().min(1, 'must not be empty'),
  lastName: z.string().trim().min(1, 'must not be empty'),
});
export type PersonName = z.infer<typeof PersonNameSchema>;

export const UserSchema = PersonNameSchema.extend({ id: Uuid4Schema });
export type User = z.infer<typeof UserSchema>;

/**
 * Splits an author's full name the way the warehouse stores it: the last token is the last name,
 * everything before it the first name; a single token is both.
 */
export function splitFullName(fullName: string): PersonName {
  const tokens = fullName.trim().split(/\s+/).filter(Boolean);
  const last = tokens.at(-1);
  if (last === undefined) {
    throw new InvalidInputError('an author name must have at least one word', 'author');
  }
  const first = tokens.length === 1 ? last : tokens.slice(0, -1).join(' ');
  return { firstName: first, lastName: last };
}

export function fullNameOf(name: PersonName): string {
  return name.firstName === name.lastName ? name.firstName : `${name.firstName} ${name.lastName}`;
}

/**
 * A name or a text folded for comparing people's names as people write them: lower case, accents
 * and possessive endings off ("Müller's" = "muller"), everything but letters and digits a space.
 */
export function foldForMatching(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/['’`´]s\b/gu, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}
