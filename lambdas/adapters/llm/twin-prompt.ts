import type { ChatPrompt } from '../../ports/chat-model.js';

/**
 * The prompt layout the twin was fine-tuned on (Alpaca: an instruction, then the response). The
 * training scripts format the instruction dataset the same way, so the two must change together.
 */
export function formatTwinPrompt(prompt: ChatPrompt): string {
  return [
    'Below is an instruction that describes a task. Write a response that appropriately completes the request.',
    `### Instruction:\n${prompt.system}\n\n${prompt.user}`,
    '### Response:\n',
  ].join('\n\n');
}
