import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { z } from 'zod';
import {
  GenerationError,
  type ChatModel,
  type ChatPrompt,
  type Generation,
  type SamplingOverride,
} from '../../ports/chat-model.js';
import { parseJsonOrUndefined } from '../../shared/json.js';
import { formatTwinPrompt } from './twin-prompt.js';

export interface TgiOptions {
  endpointName: string;
  /** Set when the endpoint hosts the twin as an inference component (scale to zero). */
  inferenceComponentName?: string | undefined;
  maxNewTokens: number;
  temperature: number;
  topP: number;
  repetitionPenalty: number;
  timeoutMs: number;
}

/** SageMaker's answer when an inference component has no copy to serve a request (scaled to zero). */
const NO_CAPACITY = /has no capacity to process this request/iu;

const TgiReplySchema = z.array(z.object({ generated_text: z.string() })).min(1);

/** One server-sent event of TGI's streamed reply: a token, and the whole text on the last one. */
const TgiStreamEventSchema = z.object({
  token: z.object({ text: z.string(), special: z.boolean().optional() }).optional(),
  generated_text: z.string().nullish(),
  details: z.object({ generated_tokens: z.number().optional() }).nullish(),
  error: z.string().optional(),
});

/**
 * The fine-tuned twin on a SageMaker real-time endpoint running Hugging Face TGI (SYSTEM.md §6):
 * InvokeEndpoint for whole answers, InvokeEndpointWithResponseStream for token streaming.
 */
export class SageMakerTgiModel implements ChatModel {
  constructor(
    private readonly client: SageMakerRuntimeClient,
    private readonly options: TgiOptions,
  ) {}

  get model(): string {
    const { endpointName, inferenceComponentName } = this.options;
    return `sagemaker:${endpointName}${inferenceComponentName ? `/${inferenceComponentName}` : ''}`;
  }

  /** Which endpoint, and which component on it, every request goes to. */
  private get target(): { EndpointName: string; InferenceComponentName?: string } {
    const { endpointName, inferenceComponentName } = this.options;
    return {
      EndpointName: endpointName,
      ...(inferenceComponentName ? { InferenceComponentName: inferenceComponentName } : {}),
    };
  }

  payload(prompt: ChatPrompt, stream: boolean, sampling: SamplingOverride = {}): string {
    return JSON.stringify({
      inputs: formatTwinPrompt(prompt),
      parameters: {
        max_new_tokens: this.options.maxNewTokens,
        top_p: sampling.topP ?? this.options.topP,
        temperature: sampling.temperature ?? this.options.temperature,
        repetition_penalty: sampling.repetitionPenalty ?? this.options.repetitionPenalty,
        ...(sampling.seed !== undefined ? { seed: sampling.seed } : {}),
        return_full_text: false,
      },
      ...(stream ? { stream: true } : {}),
    });
  }

  async generate(prompt: ChatPrompt, signal?: AbortSignal, sampling?: SamplingOverride): Promise<Generation> {
    // Already loaded by whoever made the client; imported here so this module adds nothing to cold starts.
    const { InvokeEndpointCommand } = await import('@aws-sdk/client-sagemaker-runtime');
    const reply = await this.call(this.deadline(signal), (abortSignal) =>
      this.client.send(
        new InvokeEndpointCommand({
          ...this.target,
          ContentType: 'application/json',
          Accept: 'application/json',
          Body: this.payload(prompt, false, sampling),
        }),
        { abortSignal },
      ),
    );
    const parsed = TgiReplySchema.safeParse(parseJsonOrUndefined(new TextDecoder().decode(reply.Body)));
    if (!parsed.success) {
      throw new GenerationError(`${this.model} replied without [0].generated_text`, 'upstream');
    }
    return { text: parsed.data[0]?.generated_text ?? '' };
  }

  async *stream(prompt: ChatPrompt, signal?: AbortSignal): AsyncGenerator<string, Generation> {
    const { InvokeEndpointWithResponseStreamCommand } = await import('@aws-sdk/client-sagemaker-runtime');
    const abortSignal = this.deadline(signal);
    const reply = await this.call(abortSignal, (combined) =>
      this.client.send(
        new InvokeEndpointWithResponseStreamCommand({
          ...this.target,
          ContentType: 'application/json',
          Accept: 'text/event-stream',
          Body: this.payload(prompt, true),
        }),
        { abortSignal: combined },
      ),
    );
    let text = '';
    const lines = new LineSplitter();
    try {
      for await (const part of reply.Body ?? []) {
        const failure = part.ModelStreamError ?? part.InternalStreamFailure;
        if (failure) {
          throw new GenerationError(`${this.model} failed while streaming: ${failure.message}`, 'upstream');
        }
        for (const line of lines.push(part.PayloadPart?.Bytes)) {
          const piece = this.tokenOf(line);
          if (piece === undefined) continue;
          text += piece;
          yield piece;
        }
      }
    } catch (error) {
      throw this.asGenerationError(error, abortSignal);
    }
    for (const line of lines.end()) {
      const piece = this.tokenOf(line);
      if (piece !== undefined) {
        text += piece;
        yield piece;
      }
    }
    return { text };
  }

  /** The text of one `data:` line, or undefined for blank lines, special tokens and comments. */
  private tokenOf(line: string): string | undefined {
    if (!line.startsWith('data:')) return undefined;
    const event = TgiStreamEventSchema.safeParse(parseJsonOrUndefined(line.slice('data:'.length).trim()));
    if (!event.success) throw new GenerationError(`${this.model} streamed an unreadable event`, 'upstream');
    if (event.data.error) throw new GenerationError(`${this.model} failed: ${event.data.error}`, 'upstream');
    const token = event.data.token;
    return token && !token.special ? token.text : undefined;
  }

  /** The caller's signal, or the request timeout, whichever ends first (the whole stream included). */
  private deadline(signal: AbortSignal | undefined): AbortSignal {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    return signal ? AbortSignal.any([signal, timeout]) : timeout;
  }

  private async call<T>(abortSignal: AbortSignal, send: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await send(abortSignal);
    } catch (error) {
      throw this.asGenerationError(error, abortSignal);
    }
  }

  private asGenerationError(error: unknown, signal: AbortSignal): unknown {
    if (error instanceof GenerationError) return error;
    if (signal.aborted) {
      return new GenerationError(`${this.model} did not answer in time`, 'timeout', { cause: error });
    }
    if (error instanceof Error && '$metadata' in error) {
      if (NO_CAPACITY.test(error.message)) {
        // Scaled to zero while idle: this very call has made the wake-up alarm fire.
        return new GenerationError(
          `${this.model} is starting after scaling to zero while idle (about 5 minutes)`,
          'starting',
          { cause: error },
        );
      }
      // An AWS service error (ModelError, ValidationError for a missing endpoint, throttling...).
      return new GenerationError(`${this.model} failed (${error.name})`, 'upstream', { cause: error });
    }
    return error;
  }
}

/**
 * Reassembles lines from byte chunks that may split a line, or even a UTF-8 character, anywhere:
 * SageMaker cuts TGI's event stream into payload parts without regard for its events.
 */
export class LineSplitter {
  private readonly decoder = new TextDecoder();
  private pending = '';

  push(bytes: Uint8Array | undefined): string[] {
    if (!bytes) return [];
    this.pending += this.decoder.decode(bytes, { stream: true });
    const lines = this.pending.split(/\r?\n/u);
    this.pending = lines.pop() ?? '';
    return lines;
  }

  end(): string[] {
    const rest = this.pending + this.decoder.decode();
    this.pending = '';
    return rest === '' ? [] : [rest];
  }
}
