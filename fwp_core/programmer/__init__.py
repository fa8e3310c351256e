"""Trainable programmers (slow nets) that emit q, k, v, β and gates for any fast-weight rule.

    from fwp_core.programmer import train, evaluate, save, load
    result = train("parity", "delta", beta_range=(0, 2), steps=1500, seed=0)
    evaluate(result.model, "parity", length=64)          # accuracy on fresh sequences
    episode = result.model.programme("0110")             # fwp_core.sequences.Episode
    make_rule("delta").run(episode.q, episode.k, episode.v, **episode.run_kwargs())

Never imports Streamlit or Plotly.
"""

from .io import FORMAT, MAX_FILE_BYTES, load, save
from .models import BETA_RANGES, KINDS, MAX_D, Emitted, FastWeightProgrammer, ProgrammerConfig, make_config, rules_for
from .tasks import TASKS, TaskBatch, TaskSpec, encode_bits, get_task, least_squares_prediction, sample, task_names
from .train import MAX_STEPS, MAX_TRAIN_LENGTH, Evaluation, History, TrainResult, evaluate, evaluate_detail, train

__all__ = [
    "BETA_RANGES", "Emitted", "Evaluation", "FORMAT", "FastWeightProgrammer", "History", "KINDS", "MAX_D",
    "MAX_FILE_BYTES", "MAX_STEPS", "MAX_TRAIN_LENGTH", "ProgrammerConfig", "TASKS", "TaskBatch", "TaskSpec",
    "TrainResult", "encode_bits", "evaluate", "evaluate_detail", "get_task", "least_squares_prediction", "load",
    "make_config", "rules_for", "sample", "save", "task_names", "train",
]
