/**
 * Stylometry: how much a text reads like an author, measured the way authorship research does, on
 * the CPU in milliseconds. Two views of style, both built from reference passages of every author:
 *
 * - character 3-5-grams, TF-IDF weighted (sublinear term frequency), compared by cosine with the
 *   author's profile (the centroid of their passages); the classifier attributes a text to the
 *   author whose profile is nearest;
 * - Burrows' Delta over the most frequent words: the mean absolute difference of z-scored word
 *   frequencies between the text and the author (lower is closer).
 *
 * The same definitions run in the SageMaker evaluation job (sagemaker/twin_training/stylometry.py);
 * test/fixtures/stylometry-golden.json pins both to the same numbers.
 */

/** Character n-gram orders of the profile (the range authorship attribution studies settle on). */
export const NGRAM_ORDERS = [3, 4, 5] as const;
/**
 * Words of Burrows' Delta: the 150 most frequent in the reference passages (Burrows, 2002). Delta is
 * known to need long texts (a few thousand words); on passages of 150 words it is the weaker of the
 * two measures, reported beside the cosine, never gating alone.
 */
export const DELTA_WORDS = 150;
/** An n-gram seen in fewer reference passages than this is not a feature (it cannot generalise). */
const MIN_DOCUMENT_FREQUENCY = 2;

type SparseVector = Map<string, number>;

/** Lower case, one space between words: layout (line breaks, indentation) is not style here. */
export function normalizeForStyle(text: string): string {
  return text.toLowerCase().replace(/\s+/gu, ' ').trim();
}

/** The text's words, lower case (letters, with inner apostrophes). */
export function styleWords(text: string): string[] {
  return text.toLowerCase().match(/\p{L}+(?:['’]\p{L}+)*/gu) ?? [];
}

function ngramCounts(text: string): Map<string, number> {
  // By code point, not UTF-16 unit: an emoji is one character here as in the Python job.
  const characters = Array.from(normalizeForStyle(text));
  const counts = new Map<string, number>();
  for (const order of NGRAM_ORDERS) {
    for (let start = 0; start + order <= characters.length; start++) {
      const gram = characters.slice(start, start + order).join('');
      counts.set(gram, (counts.get(gram) ?? 0) + 1);
    }
  }
  return counts;
}

function normalize(vector: SparseVector): SparseVector {
  let norm = 0;
  for (const value of vector.values()) norm += value * value;
  norm = Math.sqrt(norm);
  if (norm === 0) return vector;
  for (const [key, value] of vector) vector.set(key, value / norm);
  return vector;
}

function cosine(a: SparseVector, b: SparseVector): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let dot = 0;
  for (const [key, value] of small) dot += value * (large.get(key) ?? 0);
  return dot;
}

/** A reference passage: whose it is and its text. */
export interface ReferencePassage {
  author: string;
  text: string;
}

/** How one text compares with one author. */
export interface StyleScore {
  /** Cosine of the text's character n-gram vector with the author's profile (0-1, higher is closer). */
  cosine: number;
  /** Burrows' Delta to the author (0 and up, lower is closer). */
  delta: number;
}

/**
 * Author profiles built from reference passages (the authors' other articles), and the measures
 * that compare any text with them. Build once per evaluation; every method is pure.
 */
export class StyleModel {
  private constructor(
    private readonly idf: Map<string, number>,
    private readonly profiles: Map<string, SparseVector>,
    private readonly deltaWords: readonly string[],
    private readonly wordMeans: Float64Array,
    private readonly wordDeviations: Float64Array,
    private readonly authorZ: Map<string, Float64Array>,
  ) {}

  static fit(passages: readonly ReferencePassage[]): StyleModel {
    const authors = [...new Set(passages.map((passage) => passage.author))].sort();
    if (authors.length === 0) throw new Error('stylometry needs reference passages of at least one author');
    const counts = passages.map((passage) => ngramCounts(passage.text));
    const documentFrequency = new Map<string, number>();
    for (const passageCounts of counts) {
      for (const gram of passageCounts.keys()) {
        documentFrequency.set(gram, (documentFrequency.get(gram) ?? 0) + 1);
      }
    }
    const idf = new Map<string, number>();
    for (const [gram, frequency] of documentFrequency) {
      if (frequency >= MIN_DOCUMENT_FREQUENCY) {
        idf.set(gram, Math.log((1 + passages.length) / (1 + frequency)) + 1);
      }
    }
    const vectors = counts.map((passageCounts) => weigh(passageCounts, idf));
    const profiles = new Map<string, SparseVector>();
    for (const author of authors) {
      const centroid: SparseVector = new Map();
      vectors.forEach((vector, index) => {
        if (passages[index]?.author !== author) return;
        for (const [gram, value] of vector) centroid.set(gram, (centroid.get(gram) ?? 0) + value);
      });
      profiles.set(author, normalize(centroid));
    }

    const totals = new Map<string, number>();
    const wordLists = passages.map((passage) => styleWords(passage.text));
    for (const words of wordLists) for (const word of words) totals.set(word, (totals.get(word) ?? 0) + 1);
    const deltaWords = [...totals.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, DELTA_WORDS)
      .map(([word]) => word);
    const frequencies = wordLists.map((words) => relativeFrequencies(words, deltaWords));
    const means = new Float64Array(deltaWords.length);
    const deviations = new Float64Array(deltaWords.length);
    for (let w = 0; w < deltaWords.length; w++) {
      const column = frequencies.map((row) => row[w] ?? 0);
      const mean = column.reduce((sum, value) => sum + value, 0) / column.length;
      const variance = column.reduce((sum, value) => sum + (value - mean) ** 2, 0) / column.length;
      means[w] = mean;
      // A word with no spread across passages carries no signal; 1 keeps its z finite.
      deviations[w] = Math.sqrt(variance) || 1;
    }
    const zOf = (row: Float64Array) =>
      row.map((value, w) => (value - (means[w] ?? 0)) / (deviations[w] ?? 1));
    const authorZ = new Map<string, Float64Array>();
    for (const author of authors) {
      const rows = frequencies.filter((_, index) => passages[index]?.author === author).map(zOf);
      const mean = new Float64Array(deltaWords.length);
      for (const row of rows)
        for (let w = 0; w < mean.length; w++) mean[w] = (mean[w] ?? 0) + (row[w] ?? 0) / rows.length;
      authorZ.set(author, mean);
    }
    return new StyleModel(idf, profiles, deltaWords, means, deviations, authorZ);
  }

  get authors(): string[] {
    return [...this.profiles.keys()];
  }

  /** How a text compares with an author (an empty text: cosine 0, its Delta from all-zero frequencies). */
  score(text: string, author: string): StyleScore {
    const profile = this.profiles.get(author);
    const z = this.authorZ.get(author);
    if (!profile || !z) throw new Error(`no style profile for ${author}`);
    const textZ = relativeFrequencies(styleWords(text), this.deltaWords).map(
      (value, w) => (value - (this.wordMeans[w] ?? 0)) / (this.wordDeviations[w] ?? 1),
    );
    let delta = 0;
    for (let w = 0; w < textZ.length; w++) delta += Math.abs((textZ[w] ?? 0) - (z[w] ?? 0));
    return {
      cosine: cosine(weigh(ngramCounts(text), this.idf), profile),
      delta: textZ.length === 0 ? 0 : delta / textZ.length,
    };
  }

  /** The author whose profile is nearest by character n-gram cosine; undefined for a text with no features. */
  attribute(text: string): string | undefined {
    const vector = weigh(ngramCounts(text), this.idf);
    let best: { author: string; similarity: number } | undefined;
    for (const [author, profile] of this.profiles) {
      const similarity = cosine(vector, profile);
      if (similarity > 0 && (!best || similarity > best.similarity)) best = { author, similarity };
    }
    return best?.author;
  }
}

function weigh(counts: Map<string, number>, idf: Map<string, number>): SparseVector {
  const vector: SparseVector = new Map();
  for (const [gram, count] of counts) {
    const weight = idf.get(gram);
    if (weight !== undefined) vector.set(gram, (1 + Math.log(count)) * weight);
  }
  return normalize(vector);
}

function relativeFrequencies(words: readonly string[], vocabulary: readonly string[]): Float64Array {
  const counts = new Map<string, number>();
  for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
  return Float64Array.from(vocabulary, (word) =>
    words.length === 0 ? 0 : (counts.get(word) ?? 0) / words.length,
  );
}

/**
 * The area under the ROC curve of a verifier that scores positives (the author's real text) against
 * negatives (a system's outputs): the chance that a random positive outscores a random negative, ties
 * counting half. 0.5: the verifier cannot tell them apart; 1: it always can.
 */
export function rocAuc(positives: readonly number[], negatives: readonly number[]): number {
  if (positives.length === 0 || negatives.length === 0) return 0.5;
  let wins = 0;
  for (const positive of positives) {
    for (const negative of negatives) wins += positive > negative ? 1 : positive === negative ? 0.5 : 0;
  }
  return wins / (positives.length * negatives.length);
}
