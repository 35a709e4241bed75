import { createHash } from 'node:crypto';
import { cleanText } from '../features/cleaning.js';
import { notWriting } from '../rag/writing-check.js';

/** Comparable form of a text: cleaned as the feature pipeline does, lower-case, punctuation dropped. */
export function normalize(text: string): string {
  return cleanText(text)
    .toLowerCase()
    .replace(/[.,!?]/gu, ' ')
    .replace(/\s+/gu, ' ')
    .trim();
}

/** The book's preference filter: a chosen answer of at least 100 characters, a capital, a full stop. */
export function acceptableChosen(text: string): boolean {
  const trimmed = text.trim();
  return trimmed.length >= 100 && /^\p{Lu}/u.test(trimmed) && /[.!?]$/u.test(trimmed);
}

/** True when `excerpt` really is in `source`, compared after normalisation (spacing, case, symbols). */
export function occursIn(excerpt: string, source: string): boolean {
  const needle = normalize(excerpt);
  return needle.length > 0 && normalize(source).includes(needle);
}

const PERMUTATIONS = 128;
const BANDS = 32;
const ROWS = PERMUTATIONS / BANDS;
const SHINGLE = 3;
const MERSENNE = 2_147_483_647;

// Fixed hash family (a*x + b mod p), so signatures and therefore datasets are reproducible.
const FAMILY = Array.from({ length: PERMUTATIONS }, (_, i) => {
  const digest = createHash('sha256')
    .update(`minhash-${String(i)}`)
    .digest();
  return { a: (digest.readUInt32BE(0) % (MERSENNE - 1)) + 1, b: digest.readUInt32BE(4) % MERSENNE };
});

function shingles(text: string): number[] {
  const words = normalize(text).split(' ').filter(Boolean);
  const grams =
    words.length < SHINGLE
      ? [words.join(' ')]
      : words.slice(0, words.length - SHINGLE + 1).map((_, i) => words.slice(i, i + SHINGLE).join(' '));
  return [...new Set(grams)].map(
    (gram) => createHash('md5').update(gram).digest().readUInt32BE(0) % MERSENNE,
  );
}

/** A MinHash signature: 128 minimums of a universal hash family over the text's word trigrams. */
export function minhash(text: string): Uint32Array {
  const signature = new Uint32Array(PERMUTATIONS).fill(0xffffffff);
  for (const shingle of shingles(text)) {
    for (let i = 0; i < PERMUTATIONS; i++) {
      const { a, b } = FAMILY[i] ?? { a: 1, b: 0 };
      const value = Number((BigInt(a) * BigInt(shingle) + BigInt(b)) % BigInt(MERSENNE));
      if (value < (signature[i] ?? 0)) signature[i] = value;
    }
  }
  return signature;
}

/** Estimated Jaccard similarity of two texts' trigram sets. */
export function similarity(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let i = 0; i < PERMUTATIONS; i++) if (a[i] === b[i]) same += 1;
  return same / PERMUTATIONS;
}

/**
 * An index of MinHash signatures with locality-sensitive hashing (32 bands of 4 rows): near-duplicate
 * lookups compare only against the candidates that share a band, not against every stored text.
 */
export class NearDuplicateIndex {
  private readonly buckets = new Map<string, number[]>();
  private readonly signatures: Uint32Array[] = [];

  constructor(private readonly threshold: number) {}

  /** The index of a stored text at least `threshold` similar to this one, if any. */
  findSimilar(text: string, signature: Uint32Array = minhash(text)): number | undefined {
    const seen = new Set<number>();
    for (const key of bandKeys(signature)) {
      for (const candidate of this.buckets.get(key) ?? []) {
        if (seen.has(candidate)) continue;
        seen.add(candidate);
        const other = this.signatures[candidate];
        if (other && similarity(signature, other) >= this.threshold) return candidate;
      }
    }
    return undefined;
  }

  add(text: string, signature: Uint32Array = minhash(text)): number {
    const index = this.signatures.push(signature) - 1;
    for (const key of bandKeys(signature)) {
      const bucket = this.buckets.get(key);
      if (bucket) bucket.push(index);
      else this.buckets.set(key, [index]);
    }
    return index;
  }
}

function bandKeys(signature: Uint32Array): string[] {
  return Array.from(
    { length: BANDS },
    (_, band) => `${String(band)}:${signature.subarray(band * ROWS, (band + 1) * ROWS).join(',')}`,
  );
}

/**
 * Keeps the first of each group of rows whose instructions are exact (after normalisation) or near
 * duplicates of one another; returns the kept rows and how many of each kind went.
 */
export function deduplicate<T>(
  rows: readonly T[],
  instructionOf: (row: T) => string,
  threshold: number,
): { kept: T[]; exact: number; near: number } {
  const exactSeen = new Set<string>();
  const index = new NearDuplicateIndex(threshold);
  const kept: T[] = [];
  let exact = 0;
  let near = 0;
  for (const row of rows) {
    const instruction = instructionOf(row);
    const key = normalize(instruction);
    if (exactSeen.has(key)) {
      exact += 1;
      continue;
    }
    exactSeen.add(key);
    const signature = minhash(instruction);
    if (index.findSimilar(instruction, signature) !== undefined) {
      near += 1;
      continue;
    }
    index.add(instruction, signature);
    kept.push(row);
  }
  return { kept, exact, near };
}

/** A request that shares this many consecutive words with its passage is a copy of it, not a request. */
const COPIED_RUN_WORDS = 10;

/**
 * A fill-in slot of a prompt template ("[instruction]", "{topic}", "<your question>"), which a small
 * model copies from its prompt instead of writing the request. Code generics (`List<String>`) and
 * citations ("[1]") are not slots: a slot is lower-case words, or upper-case in square brackets.
 */
const TEMPLATE_SLOT = /\[[A-Za-z][A-Za-z_ ]{1,30}\]|\{[a-z][a-z_ ]{1,30}\}|<[a-z][a-z_ ]{1,30}>/u;

/**
 * A request a reader could have sent: prose of a few words (no template tokens or slots, no loop,
 * mostly letters), no word triple said three times, and not a copy of the passage it asks for. Small
 * local models write all of these failures when asked for a request.
 */
export function usableInstruction(instruction: string, extract: string): boolean {
  if (notWriting(instruction) !== undefined || TEMPLATE_SLOT.test(instruction)) return false;
  const visible = instruction.replace(/\s/gu, '');
  if ((visible.match(/\p{L}/gu) ?? []).length < visible.length * 0.6) return false;
  const words = normalize(instruction).split(' ').filter(Boolean);
  const triples = new Map<string, number>();
  for (let i = 0; i + 3 <= words.length; i++) {
    const key = words.slice(i, i + 3).join(' ');
    const count = (triples.get(key) ?? 0) + 1;
    if (count >= 3) return false;
    triples.set(key, count);
  }
  const source = ` ${normalize(extract)} `;
  for (let i = 0; i + COPIED_RUN_WORDS <= words.length; i++) {
    if (source.includes(` ${words.slice(i, i + COPIED_RUN_WORDS).join(' ')} `)) return false;
  }
  return true;
}
