"""The evaluation's task figures as inline SVG (drawn as runs/report/figures.py draws): a
confusion matrix of any classes (a binary label's, a multiclass label's, an image dataset's),
a ROC curve, and a regression's predicted-vs-actual and residual plots."""

from typing import List, Optional, Sequence

from runs.report.figures import COLORS, label_inches, new_figure, style, to_svg
from runs.report.eval_readers import RocPoint

_MOST_LABELLED_CELLS = 400  # counts are written in the cells up to 20 x 20 classes


def confusion_matrix(classes: Sequence[str], matrix: Sequence[Sequence[float]],
                     subtitle: str = '') -> Optional[str]:
  """Counts by actual class (rows) and predicted class (columns), shaded by the share of each
  actual class, so a rare class's errors show as plainly as a common one's."""
  if not matrix:
    return None
  size = len(matrix)
  totals = [sum(row) or 1.0 for row in matrix]
  shares = [[count / total for count in row] for row, total in zip(matrix, totals)]
  labels = [str(name) for name in classes]
  side = min(9.0, max(2.6, 0.45 * size + 1.2))
  left = label_inches(labels, 8)
  figure = new_figure(side + left, side + 0.6, left=left + 0.1, bottom=left + 0.3, top=0.35,
                   right=0.2)
  axes = figure.add_subplot()
  axes.imshow(shares, cmap='Blues', vmin=0.0, vmax=1.0, aspect='auto')
  if size * size <= _MOST_LABELLED_CELLS:
    for row in range(size):
      for column in range(size):
        axes.text(column, row, f'{matrix[row][column]:.0f}', ha='center', va='center',
                  fontsize=8 if size <= 10 else 6,
                  color='white' if shares[row][column] > 0.6 else '#1d2733')
  axes.set_xticks(range(size), labels, rotation=90 if max(map(len, labels)) > 3 else 0)
  axes.set_yticks(range(size), labels)
  axes.tick_params(labelsize=8)
  axes.set_xlabel('predicted class', fontsize=8)
  axes.set_ylabel('actual class', fontsize=8)
  axes.set_title(subtitle or 'confusion matrix', fontsize=9)
  return to_svg(figure)


def roc_curve(points: Sequence[RocPoint], auc: Optional[float] = None) -> Optional[str]:
  """True positive rate against false positive rate over the thresholds; the diagonal is a
  model that guesses."""
  if not points:
    return None
  ordered = sorted(points, key=lambda p: (p.false_positive_rate, p.true_positive_rate))
  figure = new_figure(3.4, 3.2, left=0.6, bottom=0.5, top=0.3)
  axes = figure.add_subplot()
  axes.plot([0, 1], [0, 1], color=COLORS['baseline'], linewidth=0.8, linestyle='--')
  axes.plot([p.false_positive_rate for p in ordered], [p.true_positive_rate for p in ordered],
            color=COLORS['train'], linewidth=1.6)
  axes.set_xlim(0, 1)
  axes.set_ylim(0, 1.01)
  axes.set_xlabel('false positive rate', fontsize=8)
  axes.set_ylabel('true positive rate', fontsize=8)
  axes.set_title('ROC curve' + (f' (AUC {auc:.4f})' if auc is not None else ''), fontsize=9)
  style(axes, 'both')
  return to_svg(figure)


def predicted_vs_actual(labels: List[float], predictions: List[float]) -> Optional[str]:
  """Each sampled example's prediction against its label; on the diagonal, exact."""
  if not labels:
    return None
  figure = new_figure(3.6, 3.4, left=0.65, bottom=0.5, top=0.3)
  axes = figure.add_subplot()
  low, high = min(labels + predictions), max(labels + predictions)
  axes.plot([low, high], [low, high], color=COLORS['baseline'], linewidth=0.8, linestyle='--')
  axes.scatter(labels, predictions, s=5, alpha=0.45, color=COLORS['train'], linewidths=0)
  axes.set_xlabel('actual (label)', fontsize=8)
  axes.set_ylabel('predicted', fontsize=8)
  axes.set_title(f'predicted vs actual ({len(labels):,} examples)', fontsize=9)
  style(axes, 'both')
  return to_svg(figure)


def residuals(labels: List[float], predictions: List[float]) -> Optional[str]:
  """Each sampled example's residual (label - prediction) against its prediction: a pattern
  left here is something the model missed."""
  if not labels:
    return None
  errors = [label - prediction for label, prediction in zip(labels, predictions)]
  figure = new_figure(3.6, 3.4, left=0.65, bottom=0.5, top=0.3)
  axes = figure.add_subplot()
  axes.axhline(0.0, color=COLORS['baseline'], linewidth=0.8, linestyle='--')
  axes.scatter(predictions, errors, s=5, alpha=0.45, color=COLORS['eval'], linewidths=0)
  axes.set_xlabel('predicted', fontsize=8)
  axes.set_ylabel('residual (actual - predicted)', fontsize=8)
  axes.set_title('residuals', fontsize=9)
  style(axes, 'both')
  return to_svg(figure)
