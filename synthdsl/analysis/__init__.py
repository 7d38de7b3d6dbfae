"""Dataset analysis: diversity metrics and the model-collapse simulation."""
