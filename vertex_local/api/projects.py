"""Resource Manager's v3 Projects.GetProject, for aiplatform's staging-bucket ownership check.

When aiplatform's default staging bucket already exists (every Model.upload after the first),
it compares the bucket's projectNumber with the project's number from Resource Manager
(gcs_utils._verify_bucket_ownership) and refuses to stage on a mismatch. The local storage and
this service derive the number from the project ID the same way, so the check passes here.
"""

import hashlib
from typing import Dict

from google.cloud.resourcemanager_v3.types import projects

from vertex_local.api.rpc import Method, proto_method


def project_number(project: str) -> str:
  """A stable 12-digit number for a project ID (a number is returned as it is)."""
  if project.isdigit():
    return project
  digest = int(hashlib.sha256(project.encode()).hexdigest(), 16)
  return str(100_000_000_000 + digest % 900_000_000_000)


class ProjectsService:
  """GetProject only: every project exists and is ACTIVE."""

  def methods(self) -> Dict[str, Dict[str, Method]]:
    return {'google.cloud.resourcemanager.v3.Projects': {
        'GetProject': proto_method(projects.GetProjectRequest, self._get, projects.Project),
    }}

  @staticmethod
  def _get(request) -> projects.Project:
    project_id = request.name.split('/', 1)[-1]
    return projects.Project(name=f'projects/{project_number(project_id)}',
                            project_id=project_id, display_name=project_id,
                            state=projects.Project.State.ACTIVE)
