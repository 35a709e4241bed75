#!/usr/bin/env node
// Launcher for `npx twin`: runs the TypeScript CLI through tsx, so no build step is needed.
import { register } from 'tsx/esm/api';

register();
await import('./twin.ts');
