/**
 * A fixed set of resources handed out one request at a time, first come first served; a waiting
 * request leaves the queue when its signal aborts.
 */
export class SequencePool<T> {
  private readonly free: T[];
  private readonly waiting: { resolve: (item: T) => void; reject: (reason: unknown) => void }[] = [];

  constructor(items: readonly T[]) {
    this.free = [...items];
  }

  /** Requests waiting for a free item. */
  get queued(): number {
    return this.waiting.length;
  }

  acquire(signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    const item = this.free.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        resolve: (taken: T) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(taken);
        },
        reject,
      };
      const onAbort = () => {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        reject(
          signal?.reason instanceof Error ? signal.reason : new Error('aborted while waiting for the model'),
        );
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  release(item: T): void {
    const next = this.waiting.shift();
    if (next) next.resolve(item);
    else this.free.push(item);
  }
}
