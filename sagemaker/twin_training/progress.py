"""Training progress as JSON lines (the CLI draws its progress bar from them; SageMaker keeps them in
the job's log), and the time budget: when it runs out, training stops at the end of the step with a
checkpoint, so a re-run continues from there."""

from __future__ import annotations

import json
import time
from typing import Any

PROGRESS_PREFIX = "twin-progress "


def progress_callback(time_budget_minutes: float) -> Any:
    from transformers import TrainerCallback

    class Progress(TrainerCallback):
        def __init__(self) -> None:
            self.started = time.monotonic()
            self.first_step: int | None = None

        def _emit(self, state: Any, **extra: Any) -> None:
            line = {"step": state.global_step, "max_steps": state.max_steps, "elapsed_s": round(time.monotonic() - self.started, 1), **extra}
            print(PROGRESS_PREFIX + json.dumps(line), flush=True)

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.started = time.monotonic()
            self.first_step = state.global_step
            self._emit(state, event="begin", resumed_from=state.global_step)

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
            if logs and "loss" in logs:
                tokens = logs.get("num_tokens")
                extra = {"tokens": int(float(tokens))} if tokens is not None else {}
                self._emit(state, event="step", loss=round(float(logs["loss"]), 4), **extra)

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if time_budget_minutes and time.monotonic() - self.started >= time_budget_minutes * 60:
                control.should_training_stop = True
                control.should_save = True
                self._emit(state, event="budget", minutes=time_budget_minutes)

        def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self._emit(state, event="checkpoint")

    return Progress()
