"""trainer/autograph_rules.py: AutoGraph leaves tf_keras alone and still converts user code."""

import tensorflow as tf
import tf_keras
from tensorflow.python.autograph.core import config as autograph_config
from tensorflow.python.autograph.impl import conversion

from trainer import autograph_rules
from trainer import model  # pylint: disable=unused-import; importing it adds the rule


def _tf_keras_rules():
  return [rule for rule in autograph_config.CONVERSION_RULES
          if isinstance(rule, autograph_config.DoNotConvert) and rule.matches('tf_keras')]


def test_importing_the_model_leaves_tf_keras_unconverted():
  assert conversion.is_allowlisted(tf_keras.layers.Dense.call)
  assert conversion.is_allowlisted(tf_keras.Model.train_step)


def test_the_rule_is_added_once():
  autograph_rules.leave_tf_keras_unconverted()
  autograph_rules.leave_tf_keras_unconverted()
  assert len(_tf_keras_rules()) == 1


def _user_step(x):
  if tf.reduce_sum(x) > 0:  # Tensor-dependent Python control flow: needs AutoGraph.
    return x
  return -x


def test_user_code_is_still_converted():
  assert not conversion.is_allowlisted(_user_step)
  assert tf.function(_user_step)(tf.constant([-2.0])).numpy().tolist() == [2.0]
