import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { sha256Of } from '../../adapters/llm/llama-cpp/gguf-file.js';
import { InvalidInputError } from '../../domain/index.js';
import { activeTwinFile, readActiveTwin, twinsDir, type ActiveTwin } from '../../settings/index.js';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/u);
const AdapterSchema = z.object({ file: z.string(), sha256: Sha256, bytes: z.number() });
const TrainingSchema = z.object({
  steps: z.number(),
  seconds: z.number(),
  firstLoss: z.number().nullable(),
  lastLoss: z.number().nullable(),
  trainLoss: z.number().nullable(),
  /** The training process's peak resident memory. */
  peakRssMib: z.number().optional(),
});

/** Everything a twin came from, and what it measured: written beside its adapter, last. */
export const TwinLineageSchema = z.object({
  version: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/u),
  createdAt: z.string(),
  base: z.object({ file: z.string(), sha256: Sha256, name: z.string(), architecture: z.string() }),
  importCheck: z.object({ top1Agreement: z.number(), positions: z.number() }),
  /** llama.cpp serving the exported adapter against the trained model (top-1 agreement). */
  servingCheck: z.object({ top1Agreement: z.number() }),
  datasets: z.object({ instruct: z.string(), preference: z.string().optional() }),
  hyperparameters: z.record(z.string(), z.string()),
  training: TrainingSchema,
  /** DPO from the SFT twin: its settings and run (absent for an SFT-only twin). */
  preference: z
    .object({ hyperparameters: z.record(z.string(), z.string()), training: TrainingSchema })
    .optional(),
  /** Held-out perplexity per author (the writing evaluation's held-out articles): base, SFT alone when DPO followed, and the twin. */
  metrics: z.object({
    heldOutPerplexity: z.record(
      z.string(),
      z.object({ base: z.number(), sft: z.number().optional(), twin: z.number(), passages: z.number() }),
    ),
  }),
  /** The SFT adapter; with DPO, `preferenceAdapter` is applied on top of it. */
  adapter: AdapterSchema,
  preferenceAdapter: AdapterSchema.optional(),
});
export type TwinLineage = z.infer<typeof TwinLineageSchema>;

export interface LocalTwin {
  lineage: TwinLineage;
  dir: string;
  active: boolean;
}

/** The trained adapter files of a twin: SFT's, and DPO's on top of it when that stage ran. */
export interface TwinAdapterFiles {
  sft: string;
  dpo?: string;
}

/** Adds a trained twin as a version of the registry; the lineage is written last (a version is complete when it has one). */
export async function registerTwin(
  dataDir: string,
  files: TwinAdapterFiles,
  lineage: Omit<TwinLineage, 'adapter' | 'preferenceAdapter'>,
): Promise<LocalTwin> {
  const dir = join(twinsDir(dataDir), lineage.version);
  await mkdir(dir, { recursive: true });
  const copy = async (from: string, name: string) => {
    await copyFile(from, join(dir, name));
    return { file: name, sha256: await sha256Of(join(dir, name)), bytes: (await stat(join(dir, name))).size };
  };
  const complete = TwinLineageSchema.parse({
    ...lineage,
    adapter: await copy(files.sft, 'adapter.gguf'),
    ...(files.dpo ? { preferenceAdapter: await copy(files.dpo, 'adapter-dpo.gguf') } : {}),
  });
  await writeFile(join(dir, 'lineage.json.partial'), `${JSON.stringify(complete, null, 2)}\n`);
  await rename(join(dir, 'lineage.json.partial'), join(dir, 'lineage.json'));
  return { lineage: complete, dir, active: false };
}

/** The registered twins, newest first. */
export async function listTwins(dataDir: string): Promise<LocalTwin[]> {
  const root = twinsDir(dataDir);
  if (!existsSync(root)) return [];
  const active = readActiveTwin(dataDir)?.version;
  const twins: LocalTwin[] = [];
  for (const entry of await readdir(root, { withFileTypes: true })) {
    const file = join(root, entry.name, 'lineage.json');
    if (!entry.isDirectory() || !existsSync(file)) continue;
    const parsed = TwinLineageSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (parsed.success)
      twins.push({
        lineage: parsed.data,
        dir: join(root, entry.name),
        active: parsed.data.version === active,
      });
  }
  return twins.sort((a, b) => b.lineage.createdAt.localeCompare(a.lineage.createdAt));
}

/**
 * Makes a twin the one every local answer comes from (`twin ask`, `serve`, the web app), after
 * checking that its adapter is the registered file and its base is still the GGUF it was trained on.
 */
export async function useTwin(dataDir: string, version: string): Promise<ActiveTwin> {
  const twins = await listTwins(dataDir);
  const twin = twins.find((candidate) => candidate.lineage.version === version);
  if (!twin) {
    throw new InvalidInputError(
      `no local twin ${version}; the registered ones: ${twins.map((t) => t.lineage.version).join(', ') || 'none (train one with `twin train --local`)'}`,
      'version',
    );
  }
  const { lineage } = twin;
  const adapters = twinAdapters(twin);
  for (const adapter of adapters) {
    const adapterSha = existsSync(adapter.file) ? await sha256Of(adapter.file) : undefined;
    if (adapterSha !== adapter.sha256) {
      throw new InvalidInputError(
        `twin ${version}'s ${basename(adapter.file)} ${adapterSha === undefined ? 'is missing' : `has sha256 ${adapterSha}, not the registered ${adapter.sha256}`}: it is not the twin that was trained; train it again`,
        'version',
      );
    }
  }
  const baseSha = existsSync(lineage.base.file) ? await sha256Of(lineage.base.file) : undefined;
  if (baseSha !== lineage.base.sha256) {
    throw new InvalidInputError(
      `twin ${version} was trained on ${basename(lineage.base.file)} (sha256 ${lineage.base.sha256.slice(0, 12)}…), and ${lineage.base.file} ${baseSha === undefined ? 'is gone' : `now has sha256 ${baseSha.slice(0, 12)}…`}: an adapter only fits its own base`,
      'version',
    );
  }
  const active: ActiveTwin = {
    version,
    base: { file: lineage.base.file, sha256: lineage.base.sha256 },
    adapters,
  };
  const file = activeTwinFile(dataDir);
  await writeFile(`${file}.partial`, `${JSON.stringify(active, null, 2)}\n`);
  await rename(`${file}.partial`, file);
  return active;
}

/** The adapters a twin is served with, in the order they were trained (llama.cpp adds them all). */
export function twinAdapters(twin: Pick<LocalTwin, 'lineage' | 'dir'>): { file: string; sha256: string }[] {
  return [twin.lineage.adapter, twin.lineage.preferenceAdapter]
    .filter((adapter) => adapter !== undefined)
    .map((adapter) => ({ file: join(twin.dir, adapter.file), sha256: adapter.sha256 }));
}

/** Back to the stock model. */
export async function useBase(dataDir: string): Promise<void> {
  await rm(activeTwinFile(dataDir), { force: true });
}
