"""Serving a pushed model: load its SavedModel and answer predictions for raw rows, the same code
in our serving image (Vertex AI's custom-container contract, http_server.py) and on the local
Vertex engine (endpoints and batch prediction jobs of vertex_local/api start it).

  model.py        the SavedModel, loaded (TF-DF's ops first when TF-DF is installed); predict()
  instances.py    raw rows (JSON objects, CSV lines) or b64 tf.Examples -> serialized tf.Examples
  http_server.py  AIP_HTTP_PORT / AIP_PREDICT_ROUTE / AIP_HEALTH_ROUTE / AIP_STORAGE_URI
  batch.py        a batch prediction over JSONL or CSV files, Vertex's output files
`python -m serving` serves; `python -m serving batch ...` predicts files.
"""
