/** Parses text that should be JSON (a model's reply, a streamed event); undefined when it is not. */
export function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
