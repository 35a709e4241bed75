import { describe, expect, it } from 'vitest';
import { authorshipPrompt, judgeAuthorship } from '../../lambdas/evaluation/authorship-judge.js';
import type { JsonChatModel } from '../../lambdas/ports/json-chat.js';

const AUTHOR = 'Measure first. Then cut.';
const TWIN = 'In this post I would love to walk you through measuring.';

/** A judge that replies from a rule over the prompt it is sent, and keeps the prompts. */
function judgeReplying(reply: (prompt: string) => string): JsonChatModel & { prompts: string[] } {
  const prompts: string[] = [];
  return {
    model: 'test:judge',
    prompts,
    completeJson: (prompt) => {
      prompts.push(prompt);
      return Promise.resolve({ text: reply(prompt), usage: { promptTokens: 0, completionTokens: 0 } });
    },
  };
}

describe('the pairwise authorship judge', () => {
  it('asks both ways round, so a judge that always answers "A" scores 0.5', async () => {
    const judge = judgeReplying(() => '{"author_wrote": "A"}');
    expect(await judgeAuthorship(judge, ['ref'], AUTHOR, TWIN)).toBe(0.5);
    expect(judge.prompts).toHaveLength(2);
    expect(judge.prompts[0]).toContain(`Text A:\n"""\n${TWIN}`);
    expect(judge.prompts[1]).toContain(`Text A:\n"""\n${AUTHOR}`);
  });

  it("scores 0 when the judge always spots the author's text, 1 when it always takes the twin's", async () => {
    const spotsAuthor = judgeReplying((prompt) =>
      prompt.indexOf(AUTHOR) < prompt.indexOf(TWIN) ? '{"author_wrote": "A"}' : '{"author_wrote": "B"}',
    );
    expect(await judgeAuthorship(spotsAuthor, ['ref'], AUTHOR, TWIN)).toBe(0);
    const takesTwin = judgeReplying((prompt) =>
      prompt.indexOf(TWIN) < prompt.indexOf(AUTHOR) ? '{"author_wrote": "A"}' : '{"author_wrote": "B"}',
    );
    expect(await judgeAuthorship(takesTwin, ['ref'], AUTHOR, TWIN)).toBe(1);
  });

  it('counts an unreadable or failed verdict as missing, never as a pick', async () => {
    expect(
      await judgeAuthorship(
        judgeReplying(() => 'the first one'),
        ['ref'],
        AUTHOR,
        TWIN,
      ),
    ).toBeUndefined();
    const failing: JsonChatModel = {
      model: 'test:down',
      completeJson: () => Promise.reject(new Error('503')),
    };
    expect(await judgeAuthorship(failing, ['ref'], AUTHOR, TWIN)).toBeUndefined();
  });

  it('shows the judge the reference passages, numbered', () => {
    const prompt = authorshipPrompt(['one', 'two'], 'x', 'y');
    expect(prompt).toContain('Passage 1:\n"""\none\n"""');
    expect(prompt).toContain('Passage 2:\n"""\ntwo\n"""');
  });
});
