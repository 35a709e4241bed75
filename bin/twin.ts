#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { runCli } from '../lambdas/cli/program.js';

// A closed pipe (`twin warehouse stats | head`) is a normal way for a reader to stop.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

// Settings from a .env file in the working directory, for those who keep them there (see .env.example).
// Variables already set in the environment win.
if (existsSync('.env')) process.loadEnvFile('.env');

process.exitCode = await runCli(process.argv);
