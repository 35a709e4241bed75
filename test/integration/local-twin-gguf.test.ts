import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/environment.js';
import { TRAINING_PYTHON, trainingEnvironmentAvailable } from '../support/training-rehearsal.js';

const run = promisify(execFile);
const SAGEMAKER = join(REPO_ROOT, 'sagemaker');

async function python(code: string): Promise<string> {
  const { stdout } = await run(TRAINING_PYTHON, ['-c', code], { cwd: SAGEMAKER });
  return stdout.trim();
}

/**
 * The local twin's GGUF steps in the jobs' Python environment (gguf-py 0.19, transformers 5.3): the
 * adapter's tensors as llama.cpp names and orders them, and the refusal of what cannot be imported.
 * The whole loop, with the agreement checks against llama.cpp, runs in test/local-twin.
 */
describe.runIf(trainingEnvironmentAvailable())('the local twin’s GGUF import and adapter export', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twin-gguf-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('puts back the row order of Llama’s query and key projections that transformers undoes on import', async () => {
    const out = await python(`
import numpy
from transformers.modeling_gguf_pytorch_utils import LlamaTensorProcessor
from twin_training.gguf_adapter import rotary_rows
gguf_order = numpy.arange(9 * 64 * 5, dtype=numpy.float32).reshape(9 * 64, 5)
imported = LlamaTensorProcessor()._reverse_permute_weights(gguf_order, 9, 3)
print(bool((rotary_rows(imported, 3) == gguf_order).all()), bool((imported == gguf_order).all()))
`);
    expect(out).toBe('True False');
  });

  it('names each LoRA pair after the base tensor it adapts, A as (r, inputs) and B as (outputs, r)', async () => {
    const out = await python(`
import json, torch
from twin_training.gguf_adapter import gguf_pairs
from twin_training.gguf_import import GgufFacts
facts = GgufFacts(architecture="llama", add_bos=False, bos_id=1, eos_id=2, heads=4, kv_heads=2, layers=2)
tensors = {
    "base_model.model.model.layers.1.self_attn.k_proj.lora_A.weight": torch.zeros(8, 64),
    "base_model.model.model.layers.1.self_attn.k_proj.lora_B.weight": torch.zeros(32, 8),
    "base_model.model.model.layers.0.mlp.down_proj.lora_A.weight": torch.zeros(8, 128),
}
print(json.dumps({name: list(value.shape) for name, value in sorted(gguf_pairs(tensors, facts).items())}))
`);
    expect(JSON.parse(out)).toEqual({
      'blk.0.ffn_down.weight.lora_a': [8, 128],
      'blk.1.attn_k.weight.lora_a': [8, 64],
      'blk.1.attn_k.weight.lora_b': [32, 8],
    });
  });

  it('refuses an architecture it cannot train, naming it and the supported ones, before loading weights', async () => {
    const gguf = join(dir, 'other.gguf');
    await python(`
import gguf, numpy
writer = gguf.GGUFWriter(${JSON.stringify(gguf)}, "mamba")
writer.add_tensor("token_embd.weight", numpy.zeros((4, 4), dtype=numpy.float32))
writer.write_header_to_file(); writer.write_kv_data_to_file(); writer.write_tensors_to_file(); writer.close()
`);
    await writeFile(join(dir, 'reference.json'), JSON.stringify({ cases: [], texts: [] }));
    const refused = await run(
      TRAINING_PYTHON,
      [
        '-m',
        'twin_training.local_twin',
        'import',
        '--gguf',
        gguf,
        '--reference',
        join(dir, 'reference.json'),
        '--out',
        join(dir, 'out'),
      ],
      { cwd: SAGEMAKER },
    ).catch((error: unknown) => error as { code: number; stderr: string });
    expect(refused).toMatchObject({ code: 1 });
    expect((refused as { stderr: string }).stderr).toContain(
      'other.gguf: architecture mamba cannot be trained locally yet; supported: llama, qwen2, gemma3',
    );
  });
});
