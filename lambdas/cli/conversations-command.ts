import { Command } from 'commander';
import { OPERATOR } from '../access/principal.js';
import { openConversationStore } from '../adapters/conversations/index.js';
import { InvalidInputError } from '../domain/index.js';
import type { Conversation, ConversationStore, ConversationSummary } from '../ports/conversations.js';
import { cliSettings, type GlobalOptions } from './context.js';

interface ListOptions {
  limit: string;
  after?: string;
  json?: boolean;
}

/** The conversations `twin ask` and `twin serve` keep on this machine (the operator's). */
async function localStore(globals: GlobalOptions): Promise<ConversationStore> {
  return openConversationStore(await cliSettings(globals));
}

function summaryLine(conversation: ConversationSummary): string {
  const turns = `${String(conversation.turns)} turn${conversation.turns === 1 ? '' : 's'}`;
  return `${conversation.id}  ${conversation.updatedAt.slice(0, 16).replace('T', ' ')}  ${turns}  ${conversation.title}`;
}

function transcript(conversation: Conversation): string {
  const lines = [
    `${conversation.title} (${conversation.id}; started ${conversation.createdAt}, kept until ${conversation.expiresAt})`,
  ];
  for (const turn of conversation.history) {
    lines.push('', `[${String(turn.index + 1)}] ${turn.query}`);
    if (turn.rewrittenQuery) lines.push(`    searched as: ${turn.rewrittenQuery.replace(/\n/gu, ' / ')}`);
    lines.push(`    ${turn.author ? `${turn.author}: ` : ''}${turn.answer.replace(/\n/gu, '\n    ')}`);
  }
  return lines.join('\n');
}

function notFound(id: string): InvalidInputError {
  return new InvalidInputError(`no conversation ${id}: twin conversations list shows the ones kept`, 'id');
}

export function conversationsCommand(globals: () => GlobalOptions): Command {
  const command = new Command('conversations').description(
    'the conversations twin ask and twin serve keep (TWIN_CONVERSATION_TTL_DAYS, _MAX_TURNS)',
  );
  command
    .command('list')
    .description('your conversations, most recently continued first')
    .option('--limit <n>', 'how many to show', '20')
    .option('--after <cursor>', 'the next page (the cursor the previous page printed)')
    .option('--json', 'print the page as JSON')
    .action(async (options: ListOptions) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
        throw new InvalidInputError('--limit must be a whole number from 1 to 100', 'limit');
      }
      const store = await localStore(globals());
      const page = await store.list(OPERATOR.id, {
        limit,
        ...(options.after ? { after: options.after } : {}),
      });
      if (options.json) {
        console.log(JSON.stringify(page, null, 2));
        return;
      }
      if (page.conversations.length === 0) console.log('No conversations: twin ask starts one.');
      for (const conversation of page.conversations) console.log(summaryLine(conversation));
      if (page.next) console.log(`More: twin conversations list --after ${page.next}`);
    });
  command
    .command('show')
    .description('one conversation, turn by turn')
    .argument('<id>', 'the conversation (twin conversations list)')
    .option('--json', 'print it as JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      const conversation = await (await localStore(globals())).get(OPERATOR.id, id);
      if (!conversation) throw notFound(id);
      console.log(options.json ? JSON.stringify(conversation, null, 2) : transcript(conversation));
    });
  command
    .command('delete')
    .description('delete a conversation and every turn of it')
    .argument('<id>', 'the conversation (twin conversations list)')
    .action(async (id: string) => {
      if (!(await (await localStore(globals())).delete(OPERATOR.id, id))) throw notFound(id);
      console.log(`Deleted conversation ${id}.`);
    });
  return command;
}
