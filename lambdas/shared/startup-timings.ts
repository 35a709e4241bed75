/**
 * How long each part of a cold start took (settings, connections, each model), for the log line a
 * function writes when it is ready, so a slow cold start says where its time went.
 */
export class StartupTimings {
  private readonly started = performance.now();
  private readonly parts: Record<string, number> = {};

  async time<T>(name: string, work: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await work();
    } finally {
      this.parts[`${name}Ms`] = Math.round(performance.now() - start);
    }
  }

  /** Every part, and the total since this object was made (parts run side by side overlap). */
  summary(): Record<string, number> {
    return { ...this.parts, totalMs: Math.round(performance.now() - this.started) };
  }
}
