"""In-process fakes of cloud services that the real client libraries talk to over the wire."""
