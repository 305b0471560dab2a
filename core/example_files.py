"""How ExampleGen and Transform lay out their example files: how many shards per split, and
whether they are GZIP-compressed. Pure Python (no TensorFlow), so configs and the command line
can build and check it cheaply.

Readers tell the compression from each file's name, as Beam's and TFX's readers do
(CompressionTypes.AUTO): '*.gz' is GZIP, anything else is read uncompressed.
"""

import dataclasses
from typing import Dict, NamedTuple

NUM_SHARDS_KEY = 'num_shards'
COMPRESSION_KEY = 'compression'


class Compression(NamedTuple):
  """How one compression setting is spelled for tf.data and Beam, and its file-name suffix."""
  tf_type: str  # tf.data.TFRecordDataset / tf.io.TFRecordWriter compression_type
  beam_type: str  # apache_beam.io.filesystem.CompressionTypes value
  suffix: str


COMPRESSIONS: Dict[str, Compression] = {
    'gzip': Compression(tf_type='GZIP', beam_type='gzip', suffix='.gz'),
    'none': Compression(tf_type='', beam_type='uncompressed', suffix='.tfrecord'),
}
# GZIP by default: on the taxi data it is ~9x smaller and reads as fast as uncompressed
# (measured in bench/compression.py; figures in the README).
DEFAULT_COMPRESSION = 'gzip'
# 2x the trainer's default cycle_length, so the reader always has files to interleave.
DEFAULT_NUM_SHARDS = 8


@dataclasses.dataclass(frozen=True)
class ExampleFilesConfig:
  """At least `num_shards` files per split, compressed per `compression` ('gzip' or 'none')."""
  num_shards: int = DEFAULT_NUM_SHARDS
  compression: str = DEFAULT_COMPRESSION

  def __post_init__(self):
    shards = self.num_shards
    # JSON round trips may turn 8 into 8.0; anything else but a whole number >= 1 is refused.
    if (isinstance(shards, bool) or not isinstance(shards, (int, float)) or
        shards != int(shards) or shards < 1):
      raise ValueError(f'{NUM_SHARDS_KEY} must be a whole number >= 1, got {shards!r}')
    object.__setattr__(self, 'num_shards', int(shards))
    if self.compression not in COMPRESSIONS:
      raise ValueError(f'{COMPRESSION_KEY} must be one of {sorted(COMPRESSIONS)}, got '
                       f'{self.compression!r}')

  @property
  def suffix(self) -> str:
    return COMPRESSIONS[self.compression].suffix

  @property
  def beam_compression_type(self) -> str:
    return COMPRESSIONS[self.compression].beam_type

  def to_dict(self) -> Dict[str, object]:
    return {NUM_SHARDS_KEY: self.num_shards, COMPRESSION_KEY: self.compression}

  @classmethod
  def from_dict(cls, values) -> 'ExampleFilesConfig':
    """From a component's custom_config; keys it does not name keep their defaults."""
    values = values or {}
    return cls(num_shards=values.get(NUM_SHARDS_KEY, DEFAULT_NUM_SHARDS),
               compression=values.get(COMPRESSION_KEY, DEFAULT_COMPRESSION))


def compression_of(path: str) -> str:
  """'gzip' for a '*.gz' file, else 'none': how Beam's AUTO compression reads it."""
  return 'gzip' if path.endswith('.gz') else 'none'


def tf_compression_type(path: str) -> str:
  """The tf.data.TFRecordDataset compression_type for the file at `path`."""
  return COMPRESSIONS[compression_of(path)].tf_type
