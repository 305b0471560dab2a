"""A derived label as an expression over numeric columns, e.g. 'tips > 0.2 * fare'.

Allowed: column names, numbers, + - * /, comparisons (< <= > >= == !=, one per pair), `and`,
`or`, `not`, unary minus and parentheses. It is a string, so it travels in custom_config and is
evaluated as TensorFlow ops inside the Transform graph (and so inside the serving signature).
"""

import ast
from typing import Callable, Dict, Mapping

_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div)
_COMPARISONS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)


def check(expression: str, column_types: Mapping[str, str]) -> None:
  """Raises ValueError naming what is not allowed, or an unknown or non-numeric column."""
  try:
    tree = ast.parse(expression, mode='eval')
  except SyntaxError as error:
    raise ValueError(f'{expression!r} is not an expression: {error.msg}') from None
  for node in ast.walk(tree):
    if isinstance(node, ast.Name):
      if node.id not in column_types:
        raise ValueError(f'{expression!r}: {node.id!r} is not one of the columns')
      if column_types[node.id] == 'string':
        raise ValueError(f'{expression!r}: column {node.id!r} is a string; an expression '
                         'uses numeric columns')
    elif isinstance(node, ast.Constant):
      if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
        raise ValueError(f'{expression!r}: only numbers may appear as constants, got '
                         f'{node.value!r}')
    elif isinstance(node, ast.Compare) and len(node.ops) != 1:
      raise ValueError(f'{expression!r}: write chained comparisons with "and"')
    elif not isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare,
                               ast.Load, ast.USub, ast.Not, ast.And, ast.Or) + _ARITHMETIC +
                        _COMPARISONS):
      raise ValueError(f'{expression!r}: {type(node).__name__} is not allowed (use columns, '
                       'numbers, + - * /, comparisons, and/or/not)')


def columns_of(expression: str) -> set:
  return {node.id for node in ast.walk(ast.parse(expression, mode='eval'))
          if isinstance(node, ast.Name)}


def evaluate(expression: str, values: Mapping[str, object], tf) -> object:
  """The expression's value over `values` ({column: float tensor}) as TensorFlow ops.

  `tf` is the tensorflow module (passed in, so this module imports no TensorFlow)."""
  binary: Dict[type, Callable] = {
      ast.Add: tf.add, ast.Sub: tf.subtract, ast.Mult: tf.multiply, ast.Div: tf.math.divide,
      ast.Lt: tf.less, ast.LtE: tf.less_equal, ast.Gt: tf.greater,
      ast.GtE: tf.greater_equal, ast.Eq: tf.equal, ast.NotEq: tf.not_equal,
  }

  def numeric(value):
    return tf.cast(value, tf.float32) if value.dtype == tf.bool else value

  def visit(node):
    if isinstance(node, ast.Expression):
      return visit(node.body)
    if isinstance(node, ast.Name):
      return values[node.id]
    if isinstance(node, ast.Constant):
      return tf.constant(float(node.value))
    if isinstance(node, ast.BinOp):
      return binary[type(node.op)](numeric(visit(node.left)), numeric(visit(node.right)))
    if isinstance(node, ast.Compare):
      return binary[type(node.ops[0])](numeric(visit(node.left)),
                                       numeric(visit(node.comparators[0])))
    if isinstance(node, ast.BoolOp):
      combine = tf.logical_and if isinstance(node.op, ast.And) else tf.logical_or
      result = tf.cast(visit(node.values[0]), tf.bool)
      for value in node.values[1:]:
        result = combine(result, tf.cast(visit(value), tf.bool))
      return result
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
      return tf.logical_not(tf.cast(visit(node.operand), tf.bool))
    if isinstance(node, ast.UnaryOp):
      return tf.negative(numeric(visit(node.operand)))
    raise ValueError(f'{expression!r}: {type(node).__name__} is not allowed')

  return visit(ast.parse(expression, mode='eval'))
