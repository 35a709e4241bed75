"""Where SageMaker puts a job's inputs and takes its outputs. TWIN_SAGEMAKER_ROOT moves the whole
/opt/ml tree, so that a rehearsal (CI, `twin train --local`) runs the job code unchanged."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(os.environ.get("TWIN_SAGEMAKER_ROOT", "/opt/ml"))
# The SM_* variables SageMaker sets win where present, as in the training toolkit.
INPUT_DATA = Path(os.environ.get("SM_INPUT_DIR", str(ROOT / "input"))) / "data"
HYPERPARAMETERS = Path(os.environ.get("SM_INPUT_CONFIG_DIR", str(ROOT / "input" / "config"))) / "hyperparameters.json"
MODEL_DIR = Path(os.environ.get("SM_MODEL_DIR", str(ROOT / "model")))
CHECKPOINTS = ROOT / "checkpoints"
OUTPUT_DATA = Path(os.environ.get("SM_OUTPUT_DATA_DIR", str(ROOT / "output" / "data")))
