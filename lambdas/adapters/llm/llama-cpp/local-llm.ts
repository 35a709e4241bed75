import type {
  Llama,
  LlamaContext,
  LlamaContextSequence,
  LlamaGrammar,
  LlamaModel,
  LlamaText,
  Token,
} from 'node-llama-cpp';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChatPrompt } from '../../../ports/chat-model.js';
import type { LocalGeneratorSettings } from '../../../settings/index.js';
import { formatTwinPrompt } from '../twin-prompt.js';
import { checkGgufFile, localModelProblem, sha256Of } from './gguf-file.js';
import { SequencePool } from './sequence-pool.js';

type LlamaLibrary = typeof import('node-llama-cpp');

/** llama.cpp's error lines, newest last (a failed load is explained only there). */
const llamaErrors: string[] = [];
let runtime: Promise<{ library: LlamaLibrary; llama: Llama }> | undefined;

/** The llama.cpp bindings, once per process, on the CPU (prebuilt binaries; never a local build). */
function llamaRuntime(): Promise<{ library: LlamaLibrary; llama: Llama }> {
  runtime ??= import('node-llama-cpp').then(async (library) => {
    const llama = await library.getLlama({
      gpu: false,
      build: 'never',
      logLevel: library.LlamaLogLevel.warn,
      logger: (level, message) => {
        if (level === library.LlamaLogLevel.error) llamaErrors.push(message.trim());
        if (llamaErrors.length > 100) llamaErrors.splice(0, 50);
      },
    });
    return { library, llama };
  });
  return runtime;
}

/** A twin's adapter must be the file it was registered with (a changed file is a different twin). */
async function checkTwinAdapter(
  settings: LocalGeneratorSettings,
  adapter: { file: string; sha256: string },
): Promise<void> {
  const actual = await sha256Of(adapter.file).catch(() => undefined);
  if (actual === adapter.sha256) return;
  throw localModelProblem(
    settings.file,
    `has twin ${settings.twin?.version ?? ''} active, whose adapter ${adapter.file} ${actual === undefined ? 'is missing' : `has sha256 ${actual}, not the registered ${adapter.sha256}`}; run \`twin models use base\` or train it again`,
  );
}

/** Sampling for one request. */
export interface Sampling {
  maxTokens: number;
  temperature: number;
  topP: number;
  repetitionPenalty: number;
  seed?: number;
}

export interface CompletionRequest extends Sampling {
  grammar?: LlamaGrammar;
  signal: AbortSignal;
  onText?: (text: string) => void;
}

export interface Completion {
  text: string;
  promptTokens: number;
  completionTokens: number;
}

/** A prompt as the model reads it: its tokens, and the strings that end its answer. */
interface RenderedPrompt {
  tokens: Token[];
  stopTriggers: (string | LlamaText)[];
}

/**
 * Tokens the budget keeps free beyond the answer: the beginning-of-text token llama.cpp adds, the
 * one-token context-shift reserve, and a margin for the joins between separately counted parts.
 */
const BUDGET_MARGIN_TOKENS = 16;

/**
 * One GGUF model loaded in this process by llama.cpp (node-llama-cpp), with a context of a few
 * sequences that requests take turns on. The twin (ChatModel) and the query model (JsonChatModel)
 * share it, so the weights are in memory once.
 *
 * Instruction-tuned models (the GGUF carries a chat template) get the system and user turns in
 * their own chat format; others, base models and twins fine-tuned by our training job, get the
 * Alpaca layout the twin is trained and served with on SageMaker.
 */
export class LocalLlm {
  private constructor(
    private readonly library: LlamaLibrary,
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly pool: SequencePool<LlamaContextSequence>,
    readonly file: string,
    private readonly promptLayout: 'auto' | 'chat' | 'alpaca' = 'auto',
  ) {}

  /** Checks the file, then loads it; every failure names the file and what to do. */
  static async load(settings: LocalGeneratorSettings): Promise<LocalLlm> {
    await checkGgufFile(settings.file, settings.sha256);
    for (const adapter of settings.twin?.adapters ?? []) await checkTwinAdapter(settings, adapter);
    const { library, llama } = await llamaRuntime();
    // More threads than cores makes llama.cpp's threads wait on each other: measured here, 100x slower.
    const threads = settings.threads ?? llama.cpuMathCores;
    llama.maxThreads = threads;
    const logged = llamaErrors.length;
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: settings.file });
    } catch (error) {
      // llama.cpp says why a load failed only in its log, which reaches JavaScript a little later;
      // its first error line is the reason.
      for (let waited = 0; llamaErrors.length === logged && waited < 1000; waited += 20) await sleep(20);
      const reason = llamaErrors[logged] ?? (error instanceof Error ? error.message : String(error));
      throw localModelProblem(settings.file, `could not be loaded by llama.cpp (${reason})`);
    }
    const contextSize = Math.min(settings.contextSize, model.trainContextSize);
    const adapters = settings.twin?.adapters ?? [];
    const context = await model
      .createContext({
        contextSize,
        sequences: settings.sequences,
        threads,
        ...(adapters.length > 0
          ? { lora: { adapters: adapters.map(({ file }) => ({ filePath: file })) } }
          : {}),
      })
      .catch(async (error: unknown) => {
        await model.dispose();
        if (adapters.length === 0) throw error;
        throw localModelProblem(
          settings.file,
          `could not take twin ${settings.twin?.version ?? ''}'s adapter (${error instanceof Error ? error.message : String(error)}); run \`twin models use base\``,
        );
      });
    const sequences = Array.from({ length: settings.sequences }, () => context.getSequence());
    if (settings.promptLayout === 'chat' && !model.fileInfo.metadata.tokenizer.chat_template) {
      await context.dispose();
      await model.dispose();
      throw localModelProblem(
        settings.file,
        'has no chat template, so TWIN_GENERATOR_PROMPT_LAYOUT=chat cannot be used; use auto or alpaca',
      );
    }
    return new LocalLlm(
      library,
      llama,
      model,
      context,
      new SequencePool(sequences),
      settings.file,
      // A twin is trained in the Alpaca layout (sagemaker/twin_training/formatting.py): it is asked in it.
      settings.twin ? 'alpaca' : settings.promptLayout,
    );
  }

  /** The GGUF's own name for the model, else its file name. */
  get name(): string {
    return this.model.fileInfo.metadata.general.name ?? this.file.split('/').at(-1) ?? this.file;
  }

  /** True when the GGUF carries a chat template: the model follows instructions (self-query, expansion). */
  get instructionTuned(): boolean {
    return Boolean(this.model.fileInfo.metadata.tokenizer.chat_template);
  }

  get contextSize(): number {
    return this.context.contextSize;
  }

  /** The model's own token count of a text. */
  readonly countTokens = (text: string): number => this.model.tokenize(text).length;

  /** The most prompt tokens that leave `answerTokens` of the context for the answer. */
  inputBudget(answerTokens: number): number {
    const frame = this.render({ system: '', user: '' }).tokens.length;
    return this.contextSize - answerTokens - frame - BUDGET_MARGIN_TOKENS;
  }

  /** A grammar that only lets the model write JSON of this schema (llama.cpp's GBNF). */
  jsonGrammar(schema: object): Promise<LlamaGrammar> {
    return this.llama.createGrammarForJsonSchema(
      schema as Parameters<Llama['createGrammarForJsonSchema']>[0],
    );
  }

  /**
   * Writes the answer to a prompt on the next free sequence (waiting for one, or until the signal).
   * Aborting stops generation and throws the signal's reason.
   */
  async complete(prompt: ChatPrompt, request: CompletionRequest): Promise<Completion> {
    const rendered = this.render(prompt);
    const sequence = await this.pool.acquire(request.signal);
    // Every request starts from an empty sequence: reusing a cached prefix evaluates the prompt in
    // other batches, and the float differences change greedy answers; the same request should not.
    await sequence.clearHistory();
    const completion = new this.library.LlamaCompletion({ contextSequence: sequence });
    let completionTokens = 0;
    try {
      const result = await completion.generateCompletionWithMeta(rendered.tokens, {
        maxTokens: request.maxTokens,
        temperature: request.temperature,
        topP: request.topP,
        repeatPenalty: { penalty: request.repetitionPenalty },
        ...(request.seed !== undefined ? { seed: request.seed } : {}),
        customStopTriggers: rendered.stopTriggers,
        signal: request.signal,
        // The budget makes the prompt fit; never drop its beginning to make room.
        disableContextShift: true,
        contextShiftSize: 1,
        ...(request.grammar ? { grammar: request.grammar } : {}),
        onToken: (tokens) => {
          completionTokens += tokens.length;
        },
        ...(request.onText ? { onTextChunk: request.onText } : {}),
      });
      return { text: result.response, promptTokens: rendered.tokens.length + 1, completionTokens };
    } finally {
      completion.dispose({ disposeSequence: false });
      this.pool.release(sequence);
    }
  }

  /**
   * The model's negative log-likelihood of a text (its first `maxTokens` tokens after the
   * beginning-of-text token), in nats, and how many tokens it covers: exp(nll / tokens) is the
   * perplexity. Exact: the full next-token distribution at every position (slow for a large
   * vocabulary, hence the cap).
   */
  async negativeLogLikelihood(
    text: string,
    maxTokens: number,
    signal?: AbortSignal,
  ): Promise<{ nll: number; tokens: number }> {
    const input = this.tokenizeAsServed(text).slice(0, maxTokens + 1);
    if (input.length < 2) return { nll: 0, tokens: 0 };
    const sequence = await this.pool.acquire(signal ?? new AbortController().signal);
    try {
      await sequence.clearHistory();
      const outputs = await sequence.controlledEvaluate(
        input.slice(0, -1).map((token) => [
          token,
          // The raw distribution: temperature 1, nothing cut.
          { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } },
        ]),
      );
      let nll = 0;
      outputs.forEach((output, index) => {
        const next = input[index + 1];
        const probability = next === undefined ? undefined : output?.next.probabilities?.get(next);
        // A token the model gives no probability at all counts as one in a billion, not as infinity.
        nll -= Math.log(Math.max(probability ?? 0, 1e-9));
      });
      return { nll, tokens: input.length - 1 };
    } finally {
      await sequence.clearHistory();
      this.pool.release(sequence);
    }
  }

  /**
   * A text's tokens as llama.cpp feeds them when it answers: with the beginning-of-text token only
   * where the GGUF asks for it (SmolLM2's does not). Training tokenizes the same way.
   */
  tokenizeAsServed(text: string): Token[] {
    const bos = this.model.tokens.bos;
    const tokens = this.model.tokenize(text);
    return bos !== null && this.model.tokens.shouldPrependBosToken ? [bos, ...tokens] : tokens;
  }

  /** llama.cpp's greedy continuation of a prompt, as tokens (the reference an imported model must match). */
  async greedyTokens(prompt: readonly Token[], count: number): Promise<Token[]> {
    const sequence = await this.pool.acquire(new AbortController().signal);
    try {
      await sequence.clearHistory();
      const greedy: Token[] = [];
      for await (const token of sequence.evaluate([...prompt], { temperature: 0 })) {
        greedy.push(token);
        if (greedy.length >= count || this.model.isEogToken(token)) break;
      }
      return greedy;
    } finally {
      await sequence.clearHistory();
      this.pool.release(sequence);
    }
  }

  async close(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
  }

  /** Whether prompts go through the model's chat template (else the Alpaca layout). */
  get usesChatTemplate(): boolean {
    return this.promptLayout === 'chat' || (this.promptLayout === 'auto' && this.instructionTuned);
  }

  private render(prompt: ChatPrompt): RenderedPrompt {
    if (!this.usesChatTemplate) {
      return {
        tokens: this.model.tokenize(formatTwinPrompt(prompt)),
        stopTriggers: ['### Instruction:', '### Response:'],
      };
    }
    const wrapper = this.library.resolveChatWrapper(this.model);
    const state = wrapper.generateContextState({
      chatHistory: [
        ...(prompt.system === '' ? [] : [{ type: 'system' as const, text: prompt.system }]),
        { type: 'user', text: prompt.user },
        { type: 'model', response: [] },
      ],
    });
    const tokens = state.contextText.tokenize(this.model.tokenizer);
    // LlamaCompletion adds the beginning-of-text token itself; the template's own would be a second.
    if (tokens[0] !== undefined && tokens[0] === this.model.tokens.bos) tokens.shift();
    return { tokens, stopTriggers: state.stopGenerationTriggers };
  }
}
