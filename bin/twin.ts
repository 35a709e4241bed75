#!/usr/bin/env node
import { runCli } from '../lambdas/cli/program.js';

// A closed pipe (`twin warehouse stats | head`) is a normal way for a reader to stop.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await runCli(process.argv);
