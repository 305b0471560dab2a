"""AutoGraph leaves Keras 2's own code alone, as TensorFlow means it to.

TensorFlow's AutoGraph converts the Python of every function a tf.function calls, unless a rule
in `tensorflow/python/autograph/core/config.py` (CONVERSION_RULES) says not to. That list has
`DoNotConvert('keras')`: Keras is written to be traced as it is. With TF_USE_LEGACY_KERAS=1 the
same Keras 2 code is the `tf_keras` package, which no rule names (a rule matches a module name
prefix), so the first trace of `fit`'s train function re-parses and rewrites Keras' sources:
the training step, the functional model, every layer, loss, metric and the optimizer.

Measured on the taxi model (2 cores; `trainer/task.py` run on a finished pipeline's Transform
output): the first trace of the train function took 13.4 s with the conversion and 0.6 s
without, and the whole Trainer 30.3 s against 16.4 s. The traced graphs are the same ops;
user code (layers or losses defined outside tf_keras) is still converted as before.

The rule list has no public API, so `leave_tf_keras_unconverted` adds the rule to it, once.
"""

from tensorflow.python.autograph.core import config as autograph_config

LIBRARY = 'tf_keras'


def leave_tf_keras_unconverted() -> None:
  """Adds DoNotConvert('tf_keras') to AutoGraph's rules (a no-op when present)."""
  rules = autograph_config.CONVERSION_RULES
  if not any(isinstance(rule, autograph_config.DoNotConvert) and rule.matches(LIBRARY)
             for rule in rules):
    autograph_config.CONVERSION_RULES = (*rules, autograph_config.DoNotConvert(LIBRARY))
