"""Both engines' stores, recording runs over the artifacts fixtures.py writes: an MLMD SQLite
store as LocalDagRunner records a run, and the local Vertex engine's metadata.json."""

import json
from pathlib import Path
from typing import Dict, Optional

from core.home import PipelineHome
from tests.runs.report import fixtures

GATE_ERROR = ('Traceback (most recent call last):\n  File "gate.py", line 1, in Do\n'
              'components.anomalies_gate.DataAnomaliesError: data validation found 2 anomalies '
              'against the curated schema (the dataset schema.pbtxt):\n'
              '  [eval] company: ENUM_TYPE_UNEXPECTED_STRING_VALUES: Bogus <Cab>\n'
              '  [train vs last accepted data] company: COMPARATOR_L_INFTY_HIGH: The Linfty '
              'distance between current and previous is 0.3, above the threshold 0.2.')
_RESOLVER_TYPE = 'tfx.dsl.components.common.resolver.Resolver'


def mlmd_home(home: PipelineHome, uris: Dict[str, Path], run_id: str = 'run-2',
              fail_at: Optional[str] = None, blessing: Optional[dict] = None,
              pipeline_name: str = 'chicago-taxi') -> PipelineHome:
  """Records one run of `pipeline_name` in `home`/metadata.sqlite (call again for more runs):
  every node up to `fail_at` (FAILED, with the gate's error as TFX records it), or all of them;
  `blessing` adds properties to the blessing. The baseline statistics are an earlier run's gate
  output, an input of this run's AnomaliesGate."""
  import ml_metadata as mlmd  # pylint: disable=import-outside-toplevel
  from ml_metadata.proto import metadata_store_pb2 as pb  # pylint: disable=import-outside-toplevel
  config = pb.ConnectionConfig()
  config.sqlite.filename_uri = str(home.metadata)
  config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
  store = mlmd.MetadataStore(config)
  context_types = {name: store.put_context_type(pb.ContextType(name=name))
                   for name in ('pipeline', 'pipeline_run', 'node')}
  artifact_types = {}

  def artifact(kind: str, uri: Path, properties: dict) -> 'pb.Artifact':
    if kind not in artifact_types:
      artifact_types[kind] = store.put_artifact_type(pb.ArtifactType(name=kind))
    item = pb.Artifact(type_id=artifact_types[kind], uri=str(uri))
    for key, value in properties.items():
      if isinstance(value, int):
        item.custom_properties[key].int_value = value
      else:
        item.custom_properties[key].string_value = value
    return item

  def context(kind: str, name: str) -> 'pb.Context':
    existing = store.get_context_by_type_and_name(kind, name)
    if existing is not None:
      return existing
    created = pb.Context(type_id=context_types[kind], name=name)
    created.id = store.put_contexts([created])[0]
    return created

  pipeline, run = context('pipeline', pipeline_name), context('pipeline_run', run_id)
  store.put_parent_contexts([pb.ParentContext(child_id=run.id, parent_id=pipeline.id)])
  [baseline_id] = store.put_artifacts([artifact('ExampleStatistics', uris['baseline'], {})])
  nodes = ['CsvExampleGen', 'ImportSchemaGen', 'latest_validated_statistics_resolver',
           'StatisticsGen', 'ExampleValidator', 'AnomaliesGate', 'Trainer', 'Evaluator', 'Pusher']
  for node in nodes:
    kind = _RESOLVER_TYPE if node.endswith('resolver') else f'tfx.components.{node}'
    execution = pb.Execution(type_id=store.put_execution_type(pb.ExecutionType(name=kind)),
                             last_known_state=pb.Execution.COMPLETE)
    if node == fail_at:
      execution.last_known_state = pb.Execution.FAILED
      execution.custom_properties['__execution_result__'].string_value = json.dumps(
          {'resultMessage': GATE_ERROR, 'code': 2})
    if node == 'Trainer':
      execution.custom_properties['custom_config'].string_value = json.dumps(
          {'train_config': {'input_bound_threshold': 0.3}})
      execution.custom_properties['train_args'].string_value = '{"num_steps": 200}'
    events = []
    for producer, key, kind_name, uri_key, properties in fixtures.OUTPUTS:
      if producer == node and node != fail_at:
        if kind_name == 'ModelBlessing':
          properties = {**properties, **(blessing or {})}
        event = pb.Event(type=pb.Event.OUTPUT)
        event.path.steps.add().key = key
        events.append((artifact(kind_name, uris[uri_key], properties), event))
    if node == 'AnomaliesGate':
      event = pb.Event(type=pb.Event.INPUT)
      event.path.steps.add().key = 'baseline_statistics'
      baseline = store.get_artifacts_by_id([baseline_id])[0]
      events.append((baseline, event))
    store.put_execution(execution, events, [run, context('node', f'{pipeline_name}.{node}')])
    if node == fail_at:
      break
  return home


def vertex_home(home: PipelineHome, uris: Dict[str, Path],
                cached=('StatisticsGen',)) -> PipelineHome:
  """Two runs in the local Vertex engine's store: the earlier one made every artifact; the
  later (fixtures.RUN_ID) made all but those of the `cached` tasks."""
  artifacts = []
  for run_index, run_id in enumerate((fixtures.EARLIER_RUN_ID, fixtures.RUN_ID)):
    for producer, _, kind, uri_key, properties in fixtures.OUTPUTS:
      if run_id == fixtures.RUN_ID and producer in cached:
        continue
      artifacts.append({
          'name': f'projects/local/locations/local/metadataStores/default/artifacts/'
                  f'{len(artifacts) + 1}',
          'schema_title': f'tfx.{kind}', 'uri': str(uris[uri_key]), 'metadata': properties,
          'state': 'LIVE', 'display_name': '', 'producer_task': producer,
          'pipeline_run': run_id, 'contexts': [], 'create_time': 1000.0 + 100 * run_index,
          'sequence': len(artifacts) + 1})
  path = home.vertex_local / 'metadata.json'
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_text(json.dumps({'next_id': len(artifacts) + 1, 'artifacts': artifacts,
                              'executions': []}))
  return home


def vertex_summary(uris: Dict[str, Path], **overrides) -> dict:
  """The later Vertex run's last_run.json: StatisticsGen cached, the baseline resolved."""
  components = [dict(c, cached=c['name'] == 'StatisticsGen')
                for c in fixtures.summary()['components']]
  values = dict(
      engine='vertex-local', run_id=fixtures.RUN_ID, spec='/repo/build/pipeline-vertex-cpu.json',
      components=components,
      substitutions=[{'kind': 'data_root', 'original': 'gs://bucket/data', 'local': '/data/taxi',
                      'why': 'DATA_ROOT stands in'}],
      resolved=[{'task': 'latest_validated_statistics_resolver', 'output': 'statistics',
                 'producer_task': 'AnomaliesGate', 'pipeline_run': fixtures.EARLIER_RUN_ID,
                 'uri': str(uris['baseline'])}])
  values.update(overrides)
  return fixtures.summary(**values)


def sources(home: PipelineHome) -> dict:
  """{engine: run source} over `home`, as every run and `python -m pipeline report` get them."""
  from pipeline import engines  # pylint: disable=import-outside-toplevel
  return engines.sources(home)


def write_report(summary_json: dict, home: PipelineHome) -> Path:
  """The report writer the CLI hands every engine (pipeline/cli.py)."""
  from runs import report  # pylint: disable=import-outside-toplevel
  return report.write_report(summary_json, home, sources(home))
