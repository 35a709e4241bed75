import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { InvalidInputError } from '../domain/index.js';

/**
 * The twin `twin models use <version>` made the local generator answer with: a LoRA adapter on the
 * GGUF base it was trained on. Both files are named with their sha256, checked when the model loads:
 * an adapter that changed, or a base that is not the one it was trained on, is refused.
 */
export const ActiveTwinSchema = z.object({
  version: z.string().min(1),
  base: z.object({ file: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/u) }),
  adapters: z
    .array(z.object({ file: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/u) }))
    .min(1),
});
export type ActiveTwin = z.infer<typeof ActiveTwinSchema>;

/** Where the local registry of twins lives under the data folder. */
export function twinsDir(dataDir: string): string {
  return join(dataDir, 'twins');
}

export function activeTwinFile(dataDir: string): string {
  return join(twinsDir(dataDir), 'active.json');
}

/** The active twin, or undefined when the stock model answers. A damaged pointer is an error, not a silent fallback. */
export function readActiveTwin(dataDir: string): ActiveTwin | undefined {
  const file = activeTwinFile(dataDir);
  if (!existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    raw = undefined;
  }
  const parsed = ActiveTwinSchema.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidInputError(
      `${file}: not a twin pointer (${parsed.error.issues[0]?.path.join('.') ?? 'JSON'}); run \`twin models use <version>\` or \`twin models use base\``,
      'twin',
    );
  }
  return parsed.data;
}
