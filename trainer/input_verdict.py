"""The input monitor's verdict from its figures (trainer/input_monitor.py has the method):
pure Python, so the run report reads it back from the TensorBoard scalars without TensorFlow."""

import dataclasses
from typing import Optional

# The input alone delivering a batch in at most this share of a step keeps ahead of the model.
KEEPS_AHEAD = 0.5
# The input alone taking at least this share of a step paces the step.
PACES_THE_STEP = 0.8
# Verdicts, also written to TensorBoard as `input/verdict`: 1, 0, -1.
INPUT_BOUND, NOT_INPUT_BOUND, CANNOT_TELL = 'input-bound', 'not input-bound', 'cannot tell'
VERDICT_CODES = {INPUT_BOUND: 1.0, NOT_INPUT_BOUND: 0.0, CANNOT_TELL: -1.0}


@dataclasses.dataclass(frozen=True)
class InputReport:
  """One epoch's measurement; times are seconds per training step (median)."""
  epoch: int
  steps: int
  step_seconds: float
  compute_seconds: float
  # The input alone, per batch; None when not measured (no input given to the monitor).
  input_seconds: Optional[float] = None
  threshold: float = 0.2

  @property
  def wait_seconds(self) -> float:
    return max(0.0, self.step_seconds - self.compute_seconds)

  @property
  def wait_share(self) -> float:
    return self.wait_seconds / self.step_seconds if self.step_seconds > 0 else 0.0

  @property
  def input_share(self) -> Optional[float]:
    """The input alone's time per batch, as a share of a step."""
    if self.input_seconds is None or self.step_seconds <= 0:
      return None
    return self.input_seconds / self.step_seconds

  @property
  def verdict(self) -> str:
    share = self.input_share
    if share is not None and share <= KEEPS_AHEAD:
      return NOT_INPUT_BOUND
    if share is not None and share >= PACES_THE_STEP and self.wait_share > self.threshold:
      return INPUT_BOUND
    return CANNOT_TELL

  def explain(self) -> str:
    """The verdict in one sentence, with the figures behind it."""
    step, compute = self.step_seconds * 1e3, self.compute_seconds * 1e3
    figures = f'a step takes {step:.3g} ms, the model\'s compute {compute:.3g} ms'
    if self.input_seconds is not None:
      figures += (f', the input alone {self.input_seconds * 1e3:.3g} ms per batch '
                  f'({self.input_share:.0%} of a step)')
    verdict = self.verdict
    if verdict == NOT_INPUT_BOUND:
      return (f'not input-bound: the input alone delivers a batch in under half a step, so it '
              f'keeps ahead of the model ({figures})')
    if verdict == INPUT_BOUND:
      return (f'input-bound: about {self.wait_share:.0%} of step time waiting for data '
              f'({figures})')
    if self.input_seconds is None:
      why = 'the input alone was not measured'
    elif self.input_share >= PACES_THE_STEP:
      why = (f'the input alone takes most of a step, but the step is within '
             f'{self.threshold:.0%} of the compute')
    else:
      why = ('the input alone takes between half a step and most of one, and at steps this '
             'short the difference between step and compute mixes waiting with fit\'s own '
             'per-step work')
    return (f'cannot tell whether the input is the bottleneck: {why} ({figures}; waiting '
            f'would be at most {self.wait_share:.0%})')
