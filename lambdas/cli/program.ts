import { Command, CommanderError } from 'commander';
import { InvalidInputError } from '../domain/index.js';
import { IncompleteResultError, type GlobalOptions } from './context.js';
import { accessCommand } from './access-command.js';
import { askCommand } from './ask-command.js';
import { conversationsCommand } from './conversations-command.js';
import { datasetCommand } from './dataset-command.js';
import { etlCommand } from './etl-command.js';
import { evalCommand } from './eval-command.js';
import { featuresCommand } from './features-command.js';
import { modelsCommand } from './models-command.js';
import { searchCommand } from './search-command.js';
import { serveCommand } from './serve-command.js';
import { evaluateCommand, trainCommand } from './training-commands.js';
import { warehouseCommand } from './warehouse-commands.js';

export function buildProgram(): Command {
  const program = new Command('twin')
    .description('LLM Twin: collect your writing, learn your voice, write in it')
    .option(
      '--data-dir <dir>',
      'local data folder (embedded databases, artifacts); default: TWIN_DATA_DIR or a per-user folder',
    )
    .showHelpAfterError('(run with --help for usage)');
  const globals = () => program.opts<GlobalOptions>();
  program.addCommand(warehouseCommand(globals));
  program.addCommand(etlCommand(globals));
  program.addCommand(featuresCommand(globals));
  program.addCommand(datasetCommand(globals));
  program.addCommand(searchCommand(globals));
  program.addCommand(askCommand(globals));
  program.addCommand(conversationsCommand(globals));
  program.addCommand(serveCommand(globals));
  program.addCommand(accessCommand(globals));
  program.addCommand(trainCommand(globals));
  program.addCommand(evaluateCommand(globals));
  program.addCommand(modelsCommand(globals));
  program.addCommand(evalCommand(globals));
  return program;
}

/** Runs the CLI; returns the process exit code. Failures print one line (or a short list) and a hint. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram().exitOverride();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    process.stderr.write(`twin: ${describeFailure(error)}\n`);
    if (error instanceof IncompleteResultError) return error.exitCode;
    return error instanceof InvalidInputError ? 2 : 1;
  }
}

function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'MongoServerSelectionError') {
    return `cannot reach MongoDB (${error.message}); check MONGODB_URI, or unset TWIN_WAREHOUSE to use the embedded warehouse`;
  }
  if (error.name === 'TimeoutError' || (error instanceof TypeError && error.message === 'fetch failed')) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `download failed${cause}; check your connection, or pass a local export folder instead`;
  }
  return error.message;
}
