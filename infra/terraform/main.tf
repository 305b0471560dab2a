# GCP resources for the Chicago taxi TFX pipeline on Vertex AI Pipelines: the pipeline-root
# bucket, the image repository, the APIs, and two least-privilege service accounts (the
# pipeline runner and the training job). No service account keys: workloads use the attached
# identities, CI uses its own (var.ci_service_account_email).

locals {
  cmek_enabled    = var.kms_key_name != null
  bucket_location = coalesce(var.bucket_location, var.region)

  services = toset(concat(
    [
      "aiplatform.googleapis.com",
      "artifactregistry.googleapis.com",
      "cloudbuild.googleapis.com",
      "compute.googleapis.com",
      "iam.googleapis.com",
      "storage.googleapis.com",
    ],
    var.enable_dataflow ? ["dataflow.googleapis.com"] : [],
    local.cmek_enabled ? ["cloudkms.googleapis.com"] : [],
  ))

  labels = merge({ app = "taxi-pipeline", managed-by = "terraform" }, var.labels)

  pipeline_member = "serviceAccount:${google_service_account.pipeline.email}"
  training_member = "serviceAccount:${google_service_account.training.email}"
  ci_member       = var.ci_service_account_email == null ? null : "serviceAccount:${var.ci_service_account_email}"
}

resource "google_project_service" "services" {
  for_each = local.services

  project = var.project_id
  service = each.value
  # Other workloads in the project may use these APIs too: destroying this stack leaves them on.
  disable_on_destroy         = false
  disable_dependent_services = false
}

# ---------------------------------------------------------------------------------------------
# CMEK (only when var.kms_key_name is set): the service agents that encrypt on our behalf need
# the key before the bucket and the repository are created with it.

data "google_storage_project_service_account" "gcs" {
  count   = local.cmek_enabled ? 1 : 0
  project = var.project_id

  depends_on = [google_project_service.services]
}

resource "google_project_service_identity" "cmek" {
  provider = google-beta
  # aiplatform: pipeline jobs started with an encryption spec; artifactregistry: the repository.
  for_each = local.cmek_enabled ? toset(["aiplatform.googleapis.com", "artifactregistry.googleapis.com"]) : toset([])

  project = var.project_id
  service = each.value

  depends_on = [google_project_service.services]
}

locals {
  cmek_agents = merge(
    { for agent in data.google_storage_project_service_account.gcs : "storage.googleapis.com" => agent.email_address },
    { for service, identity in google_project_service_identity.cmek : service => identity.email },
  )
}

resource "google_kms_crypto_key_iam_member" "cmek_agents" {
  for_each = local.cmek_agents

  crypto_key_id = var.kms_key_name
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${each.value}"
}

# ---------------------------------------------------------------------------------------------
# Pipeline root: gs://BUCKET/pipeline_root/..., /data/... and /serving_model/...

resource "google_storage_bucket" "pipeline_root" {
  #checkov:skip=CKV_GCP_62:Object access is recorded by Cloud Audit Logs (var.enable_storage_data_access_logs), which Google recommends over legacy usage logs; a usage-log bucket would need a log bucket of its own.
  name          = var.bucket_name
  project       = var.project_id
  location      = local.bucket_location
  storage_class = "STANDARD"
  labels        = local.labels

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  # Holds run history and pushed models: never delete it together with its objects.
  force_destroy = false

  versioning {
    enabled = true
  }

  # Versioning keeps overwritten and deleted objects; bound what they cost.
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_version_retention_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  dynamic "encryption" {
    for_each = local.cmek_enabled ? [var.kms_key_name] : []
    content {
      default_kms_key_name = encryption.value
    }
  }

  depends_on = [google_project_service.services, google_kms_crypto_key_iam_member.cmek_agents]
}

# Data Access audit logs of Cloud Storage (who read or wrote which object), instead of legacy
# usage logs. Off by default: pipeline runs read and write many objects, and these logs are
# billed by volume. Note that this sets the project's whole audit config for storage.
resource "google_project_iam_audit_config" "storage" {
  count = var.enable_storage_data_access_logs ? 1 : 0

  project = var.project_id
  service = "storage.googleapis.com"

  audit_log_config {
    log_type = "DATA_READ"
  }
  audit_log_config {
    log_type = "DATA_WRITE"
  }
}

# ---------------------------------------------------------------------------------------------
# Pipeline image repository: REGION-docker.pkg.dev/PROJECT/REPOSITORY/taxi-pipeline:TAG

resource "google_artifact_registry_repository" "images" {
  project       = var.project_id
  location      = var.region
  repository_id = var.repository_id
  format        = "DOCKER"
  description   = "Images of the Chicago taxi TFX pipeline (infra/Dockerfile)."
  labels        = local.labels
  kms_key_name  = var.kms_key_name

  docker_config {
    immutable_tags = var.immutable_tags
  }

  depends_on = [google_project_service.services, google_kms_crypto_key_iam_member.cmek_agents]
}

# ---------------------------------------------------------------------------------------------
# Service accounts (no keys).

resource "google_service_account" "pipeline" {
  project      = var.project_id
  account_id   = var.pipeline_service_account_id
  display_name = "Taxi pipeline runner"
  description  = "Identity of Vertex AI Pipelines runs of the Chicago taxi TFX pipeline."

  depends_on = [google_project_service.services]
}

resource "google_service_account" "training" {
  project      = var.project_id
  account_id   = var.training_service_account_id
  display_name = "Taxi pipeline training"
  description  = "Identity of the Vertex AI training jobs that the taxi pipeline starts."

  depends_on = [google_project_service.services]
}

# Project-level roles: only what cannot be scoped to a resource.
resource "google_project_iam_member" "pipeline" {
  for_each = toset(concat(
    # Create and run the pipeline's Vertex AI jobs and read its ML Metadata.
    ["roles/aiplatform.user"],
    # Launch Dataflow jobs and run their workers as this account.
    var.enable_dataflow ? ["roles/dataflow.developer", "roles/dataflow.worker"] : [],
  ))

  project = var.project_id
  role    = each.value
  member  = local.pipeline_member
}

# Bucket-scoped storage access (not project-wide): read inputs, write artifacts and models.
resource "google_storage_bucket_iam_member" "pipeline_root" {
  for_each = {
    "pipeline-object-admin" = { role = "roles/storage.objectAdmin", member = local.pipeline_member }
    # storage.buckets.get, which Beam and Vertex AI use to check the pipeline root.
    "pipeline-bucket-reader" = { role = "roles/storage.legacyBucketReader", member = local.pipeline_member }
    "training-object-admin"  = { role = "roles/storage.objectAdmin", member = local.training_member }
  }

  bucket = google_storage_bucket.pipeline_root.name
  role   = each.value.role
  member = each.value.member
}

# Pull the pipeline image: repository-scoped.
resource "google_artifact_registry_repository_iam_member" "readers" {
  for_each = {
    pipeline = local.pipeline_member
    training = local.training_member
  }

  project    = google_artifact_registry_repository.images.project
  location   = google_artifact_registry_repository.images.location
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.reader"
  member     = each.value
}

# The pipeline may start training jobs as the training account: granted on that one account,
# not project-wide.
resource "google_service_account_iam_member" "pipeline_uses_training" {
  service_account_id = google_service_account.training.name
  role               = "roles/iam.serviceAccountUser"
  member             = local.pipeline_member
}

# Dataflow workers run as the pipeline account, so launching them needs actAs on itself.
resource "google_service_account_iam_member" "pipeline_uses_itself" {
  count = var.enable_dataflow ? 1 : 0

  service_account_id = google_service_account.pipeline.name
  role               = "roles/iam.serviceAccountUser"
  member             = local.pipeline_member
}

# ---------------------------------------------------------------------------------------------
# CI (optional): the account Cloud Build runs infra/cloudbuild.yaml as.

resource "google_artifact_registry_repository_iam_member" "ci_writer" {
  count = local.ci_member == null ? 0 : 1

  project    = google_artifact_registry_repository.images.project
  location   = google_artifact_registry_repository.images.location
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.writer"
  member     = local.ci_member
}

resource "google_project_iam_member" "ci" {
  # Submit and schedule pipeline runs; write build logs (options.logging: CLOUD_LOGGING_ONLY).
  for_each = local.ci_member == null ? toset([]) : toset(["roles/aiplatform.user", "roles/logging.logWriter"])

  project = var.project_id
  role    = each.value
  member  = local.ci_member
}

# Runs submitted by CI execute as the pipeline account.
resource "google_service_account_iam_member" "ci_uses_pipeline" {
  count = local.ci_member == null ? 0 : 1

  service_account_id = google_service_account.pipeline.name
  role               = "roles/iam.serviceAccountUser"
  member             = local.ci_member
}
