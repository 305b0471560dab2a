variable "project_id" {
  description = "GCP project that hosts the pipeline (Vertex AI, the bucket, the image repository)."
  type        = string
}

variable "region" {
  description = "Region of Vertex AI Pipelines, the Artifact Registry repository and (by default) the bucket."
  type        = string
  default     = "us-central1"
}

variable "bucket_name" {
  description = "Name of the pipeline-root bucket (globally unique). pipeline/vertex_runner.py uses gs://BUCKET/pipeline_root, /data and /serving_model."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a bucket name (3-63 of a-z 0-9 . _ -), not a gs:// URL."
  }
}

variable "bucket_location" {
  description = "Location of the bucket; null means var.region (co-located with Vertex AI, no egress)."
  type        = string
  default     = null
}

variable "noncurrent_version_retention_days" {
  description = "Days a replaced or deleted object version is kept before it is removed (versioning is on)."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_retention_days >= 1
    error_message = "noncurrent_version_retention_days must be at least 1."
  }
}

variable "enable_storage_data_access_logs" {
  description = "Turn on Cloud Audit Logs Data Access logs (DATA_READ, DATA_WRITE) for Cloud Storage in the project: the record of object access. Billed by volume; replaces the project's audit config for storage.googleapis.com."
  type        = bool
  default     = false
}

variable "repository_id" {
  description = "Artifact Registry Docker repository of the pipeline image."
  type        = string
  default     = "taxi"
}

variable "immutable_tags" {
  description = "Refuse to move an existing image tag (infra/cloudbuild.yaml tags each build with its commit)."
  type        = bool
  default     = true
}

variable "kms_key_name" {
  description = "Optional CMEK: full id of a Cloud KMS crypto key (projects/P/locations/L/keyRings/R/cryptoKeys/K) in the bucket's and the repository's location. null means Google-managed encryption."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_name == null || can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.kms_key_name))
    error_message = "kms_key_name must be null or projects/P/locations/L/keyRings/R/cryptoKeys/K."
  }
}

variable "enable_dataflow" {
  description = "Enable the Dataflow API and let the pipeline service account launch Dataflow jobs and run their workers (for beam_pipeline_args with --runner=DataflowRunner)."
  type        = bool
  default     = true
}

variable "pipeline_service_account_id" {
  description = "Account id of the service account that Vertex AI pipeline runs execute as."
  type        = string
  default     = "taxi-pipeline-runner"
}

variable "training_service_account_id" {
  description = "Account id of the service account for Vertex AI training jobs started by the pipeline."
  type        = string
  default     = "taxi-pipeline-training"
}

variable "ci_service_account_email" {
  description = "Optional: email of the service account Cloud Build runs infra/cloudbuild.yaml as. When set it may push images to the repository, submit and schedule pipeline runs, and start them as the pipeline service account. null grants nothing."
  type        = string
  default     = null
}

variable "labels" {
  description = "Extra labels for the bucket and the repository."
  type        = map(string)
  default     = {}
}
