"""The Pusher on Vertex AI: a model lifecycle like Vertex's Model Registry keeps one.

TFX 1.16's Vertex Pusher uploads every push as a new Model resource (no `parent_model`), with
the `default` alias only, and leaves every earlier model deployed at 0% traffic. This one, with
aiplatform's own calls:
- every push of a pipeline is a new version of one registry model, named after the pipeline
  (found by display name; the first push creates it);
- a blessed model's version gets the aliases `champion` and `default` (taken from the version
  that had them); where the profile allows challengers, a model the Evaluator did not bless is
  uploaded too, as version `challenger`, and nothing is deployed;
- the champion is deployed to the endpoint (created on the first push) with all the traffic,
  and every deployed model whose version no alias points to any more is undeployed;
- the container is the one the compiler chose (pipeline/vertex/serving.py): image, command,
  predict and health routes, port.
A model that is the blessed baseline itself pushes nothing (components/unchanged_model.py).
"""

from typing import Any, Dict, List

from absl import logging
from tfx import types
from tfx.components.pusher import component as pusher_component
from tfx.components.pusher import executor as pusher_executor
from tfx.dsl.components.base import executor_spec
from tfx.extensions.google_cloud_ai_platform import constants
from tfx.types import artifact_utils
from tfx.types import standard_component_specs
from tfx.utils import io_utils
from tfx.utils import json_utils
from tfx.utils import telemetry_utils

from components import unchanged_model

CHAMPION, CHALLENGER, DEFAULT = 'champion', 'challenger', 'default'
# custom_config keys of ours, beside TFX's (constants.*): the serving container and the registry.
SERVING_CONTAINER_KEY = 'serving_container'  # {image, command, predict_route, health_route, port}
MODEL_NAME_KEY = 'registry_model'  # the registry model's display name (the pipeline's name)
CHALLENGER_KEY = 'push_challengers'  # upload unblessed models as `challenger` versions
# Custom properties of the PushedModel artifact.
VERSION_PROPERTY, ALIASES_PROPERTY = 'model_version', 'version_aliases'


def _aiplatform():
  from google.cloud import aiplatform  # pylint: disable=import-outside-toplevel
  return aiplatform


class _RegistryExecutor(pusher_executor.Executor):
  """Uploads (and deploys) as the module says."""

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
    self._log_startup(input_dict, output_dict, exec_properties)
    config = json_utils.loads(exec_properties.get(
        standard_component_specs.CUSTOM_CONFIG_KEY, 'null')) or {}
    serving_args = config.get(constants.SERVING_ARGS_KEY)
    if not serving_args or not config.get(SERVING_CONTAINER_KEY) or not config.get(
        MODEL_NAME_KEY):
      raise ValueError(f'custom_config needs {constants.SERVING_ARGS_KEY!r}, '
                       f'{SERVING_CONTAINER_KEY!r} and {MODEL_NAME_KEY!r}')
    model_push = artifact_utils.get_single_instance(
        output_dict[standard_component_specs.PUSHED_MODEL_KEY])
    blessed = self.CheckBlessing(input_dict)
    if not blessed and not config.get(CHALLENGER_KEY):
      self._MarkNotPushed(model_push)
      return
    io_utils.copy_dir(src=self.GetModelPath(input_dict), dst=model_push.uri)
    aiplatform = _aiplatform()
    aiplatform.init(project=serving_args['project_id'],
                    location=config[constants.VERTEX_REGION_KEY])
    with telemetry_utils.scoped_labels(
        {telemetry_utils.LABEL_TFX_EXECUTOR: f'{__name__}.Executor'}):
      labels = telemetry_utils.make_labels_dict()
    model = upload(model_push.uri, config[MODEL_NAME_KEY], config[SERVING_CONTAINER_KEY],
                   blessed, labels)
    model_push.set_string_custom_property(VERSION_PROPERTY, model.version_id)
    model_push.set_string_custom_property(ALIASES_PROPERTY, ','.join(model.version_aliases))
    if not blessed:
      logging.info('Not blessed: uploaded as %s version %s, not deployed',
                   CHALLENGER, model.version_id)
      self._MarkNotPushed(model_push)
      return
    deploy_champion(model, serving_args, labels)
    self._MarkPushed(model_push, pushed_destination=model.resource_name)


def upload(artifact_uri: str, name: str, container: Dict[str, Any], blessed: bool,
           labels: Dict[str, str]):
  """A new version of registry model `name` (the first push creates it)."""
  aiplatform = _aiplatform()
  existing = aiplatform.Model.list(filter=f'display_name="{name}"')
  model = aiplatform.Model.upload(
      display_name=name, artifact_uri=artifact_uri,
      parent_model=existing[0].resource_name if existing else None,
      is_default_version=blessed, version_aliases=[CHAMPION] if blessed else [CHALLENGER],
      serving_container_image_uri=container['image'],
      serving_container_command=container.get('command'),
      serving_container_predict_route=container.get('predict_route'),
      serving_container_health_route=container.get('health_route'),
      serving_container_ports=[container['port']] if container.get('port') else None,
      labels=labels)
  logging.info('Uploaded %s version %s, aliases %s', model.resource_name, model.version_id,
               model.version_aliases)
  return model


def deploy_champion(model, serving_args: Dict[str, Any], labels: Dict[str, str]) -> None:
  """The champion takes all of the endpoint's traffic; versions no alias points to leave."""
  aiplatform = _aiplatform()
  name = serving_args['endpoint_name']
  endpoints = aiplatform.Endpoint.list(filter=f'display_name="{name}"')
  endpoint = endpoints[0] if endpoints else aiplatform.Endpoint.create(
      display_name=name, labels=labels)
  model.deploy(endpoint=endpoint, traffic_percentage=100,
               machine_type=serving_args.get('machine_type'))
  for deployed in endpoint.list_models():
    model_name = deployed.model.partition('@')[0]  # the client may have sent '<model>@<id>'
    version = aiplatform.Model(f'{model_name}@{deployed.model_version_id}')
    if not version.version_aliases:
      logging.info('Undeploying %s version %s: no alias points to it', model_name,
                   deployed.model_version_id)
      endpoint.undeploy(deployed_model_id=deployed.id)


class Executor(unchanged_model.SkipUnchanged, _RegistryExecutor):
  """The registry pusher, skipping a model that is the blessed baseline itself."""


class Pusher(pusher_component.Pusher):
  """TFX's Pusher with the Model Registry lifecycle above (custom_config: TFX's Vertex keys,
  SERVING_CONTAINER_KEY, MODEL_NAME_KEY, CHALLENGER_KEY)."""
  EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)
