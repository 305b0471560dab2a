"""The curated schema of an image dataset, as `dataset init --images` writes it (and as the
bundled digits schema is): the image bytes with an image_domain (StatisticsGen's semantic-domain
statistics: formats, sizes; an image over max_image_byte_size or a file that is no image is an
anomaly), the formats as a domain, sizes of at least one pixel, the label's domain the classes
(an unknown class is an anomaly, class-balance drift over the threshold too), and everything
but the image absent at serving time."""

from typing import Sequence

from datadefs.images import spec

HEADER = ('# Curated schema of an image dataset (datadefs/images/schema.py): one tf.Example per '
          'image file,\n# as the image ExampleGen writes it. Edit deliberately: every change '
          'here changes what data\n# is accepted.\n')
MAX_IMAGE_BYTES = 10_000_000  # a larger file is an anomaly: likely not a training image
DRIFT = 0.25  # the largest change of a class's share between runs (infinity norm)


def schema(classes: Sequence[str], max_image_bytes: int = MAX_IMAGE_BYTES):
  """The schema_pb2.Schema of an image dataset whose label takes `classes`."""
  # pylint: disable=import-outside-toplevel; TFMD's protos only when a schema is made
  from tensorflow_metadata.proto.v0 import schema_pb2
  result = schema_pb2.Schema()
  image = result.feature.add(name=spec.RAW_IMAGE, type=schema_pb2.BYTES)
  image.image_domain.minimum_supported_image_fraction = 1.0
  image.image_domain.max_image_byte_size = max_image_bytes
  for name, kind in ((spec.RAW_FORMAT, schema_pb2.BYTES), (spec.RAW_HEIGHT, schema_pb2.INT),
                     (spec.RAW_WIDTH, schema_pb2.INT), (spec.RAW_CONTENT_HASH, schema_pb2.BYTES),
                     (spec.RAW_LABEL, schema_pb2.BYTES)):
    feature = result.feature.add(name=name, type=kind)
    feature.not_in_environment.append('SERVING')
  for feature in result.feature:
    feature.presence.min_fraction = 1.0
    feature.presence.min_count = 1
    feature.shape.dim.add(size=1)
  by_name = {feature.name: feature for feature in result.feature}
  by_name[spec.RAW_FORMAT].domain = spec.RAW_FORMAT
  result.string_domain.add(name=spec.RAW_FORMAT, value=sorted(spec.FORMATS))
  for name in (spec.RAW_HEIGHT, spec.RAW_WIDTH):
    by_name[name].int_domain.min = 1
  label = by_name[spec.RAW_LABEL]
  label.domain = spec.RAW_LABEL
  label.distribution_constraints.min_domain_mass = 1.0  # an unknown class is refused
  label.drift_comparator.infinity_norm.threshold = DRIFT
  result.string_domain.add(name=spec.RAW_LABEL, value=list(classes))
  result.default_environment.extend(['TRAINING', 'SERVING'])
  result.dataset_constraints.min_examples_count = 1
  return result


def schema_text(classes: Sequence[str], max_image_bytes: int = MAX_IMAGE_BYTES) -> str:
  from google.protobuf import text_format  # pylint: disable=import-outside-toplevel
  return HEADER + text_format.MessageToString(schema(classes, max_image_bytes))
