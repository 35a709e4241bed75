/**
 * The one tokenizer of lexical (keyword) search: the feature pipeline indexes chunks with it and the
 * retriever turns queries into terms with it, on every vector store. Changing it changes every stored
 * term, so it is part of the feature pipeline's layout version.
 *
 * Steps: NFKC (styled letters such as the mathematical bold of social posts become plain ones),
 * lower case, split into runs of letters, marks and digits of any script (apostrophes and hyphens
 * split too, as the cleaned text has none), English stop words out, then a light plural stemmer.
 */

/** Common English function words: they match everywhere and say nothing about a passage. */
const STOP_WORDS = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below ' +
    'between both but by can could did do does doing down during each few for from further had has have ' +
    'having he her here hers herself him himself his how i if in into is it its itself just me more most ' +
    'my myself no nor not now of off on once only or other our ours ourselves out over own same she ' +
    'should so some such than that the their theirs them themselves then there these they this those ' +
    'through to too under until up very was we were what when where which while who whom why will with ' +
    'would you your yours yourself yourselves ' +
    // what contractions leave once their apostrophe is gone: it s, don t, you ll, we re, i ve, i d, i m
    's t ll re ve d m'
  ).split(' '),
);

/** Longer runs are identifiers, hashes or base64: noise for keyword matching. */
const MAX_TERM_LENGTH = 40;

const WORD = /[\p{L}\p{M}\p{N}]+/gu;

/**
 * The two index-time choices of keyword search: folding plurals (the stemmer below) and indexing a
 * chunk with its document's title. The service always runs the defaults; `twin eval retrieval
 * --folds` cross-validates the other three combinations against them (README, "Measuring it").
 */
export interface LexicalIndexing {
  stemming: boolean;
  titles: boolean;
}
export const DEFAULT_LEXICAL_INDEXING: LexicalIndexing = { stemming: true, titles: true };

/** The index terms of a text, in order, repeats kept (term frequency matters to BM25). */
export function lexicalTerms(text: string, stemming = DEFAULT_LEXICAL_INDEXING.stemming): string[] {
  const terms: string[] = [];
  for (const [word] of text.normalize('NFKC').toLowerCase().matchAll(WORD)) {
    if (word.length > MAX_TERM_LENGTH || STOP_WORDS.has(word)) continue;
    terms.push(stemming ? stemPlural(word) : word);
  }
  return terms;
}

/**
 * Harman's "S" stemmer, the lightest common English stemmer: it folds regular plurals onto their
 * singular (models → model, queries → query, indexes → index) and leaves everything else alone, so
 * it never merges words of different meaning the way aggressive stemmers can.
 */
export function stemPlural(word: string): string {
  if (word.length <= 3 || !word.endsWith('s')) return word;
  if (word.endsWith('ies') && !word.endsWith('eies') && !word.endsWith('aies'))
    return `${word.slice(0, -3)}y`;
  if (word.endsWith('es') && !word.endsWith('aes') && !word.endsWith('ees') && !word.endsWith('oes')) {
    // Only the sibilant plurals drop "es" (indexes, classes, batches); "features" keeps its e.
    return /(?:x|ss|sh|ch|z)es$/u.test(word) ? word.slice(0, -2) : word.slice(0, -1);
  }
  if (word.endsWith('us') || word.endsWith('ss') || word.endsWith('is')) return word;
  return word.slice(0, -1);
}
