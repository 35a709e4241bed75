/**
 * A value built once per container (clients, models, connections) on first use. A failed build is not
 * cached: the next call tries again, so one bad cold start does not poison the container.
 */
export function retryingLazy<T>(build: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    if (!pending) {
      const attempt = build();
      pending = attempt;
      attempt.catch(() => {
        if (pending === attempt) pending = undefined;
      });
    }
    return pending;
  };
}
