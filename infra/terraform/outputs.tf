output "bucket_name" {
  description = "Pipeline-root bucket (GCS_BUCKET for pipeline/vertex_runner.py)."
  value       = google_storage_bucket.pipeline_root.name
}

output "pipeline_root" {
  description = "Prefix under which Vertex AI runs write their artifacts."
  value       = "gs://${google_storage_bucket.pipeline_root.name}/pipeline_root"
}

output "image_repository" {
  description = "Docker repository URL; the pipeline image is IMAGE_REPOSITORY/taxi-pipeline:TAG (PIPELINE_IMAGE)."
  value       = "${google_artifact_registry_repository.images.location}-docker.pkg.dev/${google_artifact_registry_repository.images.project}/${google_artifact_registry_repository.images.repository_id}"
}

output "pipeline_service_account_email" {
  description = "Service account to run Vertex AI pipeline jobs and schedules as."
  value       = google_service_account.pipeline.email
}

output "training_service_account_email" {
  description = "Service account for the pipeline's Vertex AI training jobs."
  value       = google_service_account.training.email
}

output "kms_key_name" {
  description = "CMEK key of the bucket and the repository (null: Google-managed). Pass it as the pipeline job's encryption key."
  value       = var.kms_key_name
}
