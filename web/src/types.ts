/** The twin's HTTP contract as the browser sees it (see lambdas/rag/service.ts, lambdas/workspace/). */

export interface Source {
  rank: number;
  title: string;
  link: string | null;
  platform: string;
  category: string;
  author: string;
  score: number;
  excerpt: string;
}

export interface Retrieval {
  sources: Source[];
  author: { id: string | null; name: string | null; source: string };
  queries: string[];
  trace_id: string;
  flags: string[];
}

export interface Answer extends Retrieval {
  answer: string | null;
  timings: Record<string, number>;
}

export interface AuthorLinks {
  slug: string;
  author: string;
  links: string[];
}

export interface RunLink {
  input: string;
  outcome: 'pending' | 'inserted' | 'skipped' | 'failed';
  documents: number;
  reason?: string;
}

export interface CollectionRun {
  id: string;
  author: string;
  state: 'running' | 'succeeded' | 'failed';
  step: string;
  startedAt: string;
  finishedAt?: string;
  links: RunLink[];
  chunks?: number;
  error?: string;
}

type Counts = Record<'articles' | 'posts' | 'repositories', number>;

export interface AuthorCounts {
  id: string;
  name: string;
  warehouse: Counts;
  features: { cleaned: Counts; embedded: Counts };
}
