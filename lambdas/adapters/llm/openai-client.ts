import type OpenAI from 'openai';

export interface OpenAiConnection {
  baseUrl?: string;
  apiKey?: string;
  timeoutMs: number;
  /** 429 and 5xx answers are retried this many times with exponential backoff, honouring Retry-After. */
  maxRetries: number;
}

/** The openai client for any OpenAI-compatible API. Imported on demand: it is not needed offline. */
export async function createOpenAiClient(connection: OpenAiConnection): Promise<OpenAI> {
  const { default: OpenAIClient } = await import('openai');
  return new OpenAIClient({
    // An OpenAI-compatible server may need no key; the client insists on one.
    apiKey: connection.apiKey ?? 'not-needed',
    ...(connection.baseUrl ? { baseURL: connection.baseUrl } : {}),
    timeout: connection.timeoutMs,
    maxRetries: connection.maxRetries,
  });
}
