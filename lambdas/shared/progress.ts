/** Progress of a long pipeline step, emitted by pipelines and rendered by whoever runs them. */
export interface ProgressEvent {
  stage: string;
  done: number;
  total: number;
}

export type ProgressListener = (event: ProgressEvent) => void;

export const ignoreProgress: ProgressListener = () => undefined;
