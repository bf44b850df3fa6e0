"""Infrastructure: the CDK stack and the manifests it shares with the local runtime."""
