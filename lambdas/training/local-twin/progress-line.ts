import type { JobProgress } from './python.js';

const WIDTH = 24;

/**
 * The training progress: step, loss and time left, redrawn on a terminal, a line per checkpoint
 * otherwise (CI logs). Time left is measured from the steps of this run (a resumed run's earlier
 * steps took their time in another process).
 */
export function trainingProgress(
  stream: NodeJS.WriteStream = process.stderr,
): (progress: JobProgress) => void {
  let firstStep = 0;
  let loss: number | undefined;
  return (progress) => {
    if (progress.event === 'begin') {
      firstStep = progress.step;
      if (progress.step > 0) stream.write(`Resuming from the checkpoint at step ${String(progress.step)}\n`);
      return;
    }
    if (progress.loss !== undefined) loss = progress.loss;
    const done = progress.step - firstStep;
    const perStep = done > 0 ? progress.elapsed_s / done : undefined;
    const left =
      perStep === undefined ? '?' : duration(perStep * Math.max(0, progress.max_steps - progress.step));
    const filled = Math.min(
      WIDTH,
      Math.max(0, Math.round((progress.step / Math.max(1, progress.max_steps)) * WIDTH)),
    );
    const line =
      `training       [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] step ${String(progress.step)}/${String(progress.max_steps)}` +
      `${loss === undefined ? '' : `, loss ${loss.toFixed(3)}`}, ${perStep === undefined ? '' : `${perStep.toFixed(1)} s/step, `}${left} left`;
    if (progress.event === 'budget') {
      stream.write(
        `${stream.isTTY ? '\r\x1b[2K' : ''}${line}\nThe time budget is spent: stopping with a checkpoint (run the same command again to go on).\n`,
      );
    } else if (stream.isTTY) {
      stream.write(`\r\x1b[2K${line}${progress.step >= progress.max_steps ? '\n' : ''}`);
    } else if (
      progress.event === 'checkpoint' ||
      progress.step === firstStep + 1 ||
      progress.step >= progress.max_steps
    ) {
      stream.write(`${line}${progress.event === 'checkpoint' ? ' (checkpoint)' : ''}\n`);
    }
  };
}

function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
