import type { LocalTwin, TwinLineage } from '../training/local-twin/registry.js';

/** A trained twin's lineage and measures, for the terminal. */
export function formatTrainedTwin(lineage: TwinLineage): string {
  const { training } = lineage;
  const loss =
    training.firstLoss !== null && training.lastLoss !== null
      ? `, loss ${training.firstLoss.toFixed(3)} → ${training.lastLoss.toFixed(3)}`
      : '';
  const dpo = lineage.preference?.training;
  const lines = [
    `twin ${lineage.version}: LoRA ${dpo ? 'adapters (SFT, then DPO)' : 'adapter'} on ${lineage.base.name} (${lineage.base.architecture}, sha256 ${lineage.base.sha256.slice(0, 12)}…)`,
    `  instruct dataset ${lineage.datasets.instruct}; ${String(training.steps)} steps in ${String(training.seconds)} s${loss}`,
    ...(dpo && lineage.datasets.preference
      ? [
          `  DPO on preference dataset ${lineage.datasets.preference}; ${String(dpo.steps)} steps in ${String(dpo.seconds)} s${dpo.firstLoss !== null && dpo.lastLoss !== null ? `, loss ${dpo.firstLoss.toFixed(3)} → ${dpo.lastLoss.toFixed(3)}` : ''}`,
        ]
      : []),
    ...[lineage.adapter, lineage.preferenceAdapter]
      .filter((adapter) => adapter !== undefined)
      .map(
        (adapter) =>
          `  ${adapter.file} ${(adapter.bytes / 1024 / 1024).toFixed(1)} MB, sha256 ${adapter.sha256.slice(0, 12)}…`,
      ),
  ];
  const perplexity = Object.entries(lineage.metrics.heldOutPerplexity);
  if (perplexity.length > 0) {
    lines.push('  held-out perplexity (first 64 tokens of each held-out article, never trained on):');
    for (const [author, score] of perplexity) {
      lines.push(
        `    ${author.padEnd(20)} base ${score.base.toFixed(2).padStart(7)}${score.sft !== undefined ? `  SFT ${score.sft.toFixed(2).padStart(7)}` : ''}  twin ${score.twin.toFixed(2).padStart(7)}  (${String(score.passages)} articles)`,
      );
    }
  }
  return lines.join('\n');
}

/** The local registry, a line per twin; the active one is marked. */
export function formatLocalTwins(twins: readonly LocalTwin[]): string {
  if (twins.length === 0) return 'No local twins yet: `twin train --local` trains one.';
  return twins
    .map(({ lineage, active }) => {
      const perplexity = Object.entries(lineage.metrics.heldOutPerplexity)
        .map(
          ([author, score]) =>
            `${author.split(' ')[0] ?? author} ${score.base.toFixed(1)}→${score.twin.toFixed(1)}`,
        )
        .join(', ');
      return `${active ? '*' : ' '} ${lineage.version.padEnd(20)} ${lineage.base.name}  ${lineage.createdAt.slice(0, 16)}  ${String(lineage.training.steps)} steps${perplexity ? `  perplexity ${perplexity}` : ''}`;
    })
    .join('\n');
}
