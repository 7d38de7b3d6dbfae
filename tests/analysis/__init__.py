"""Tests of synthdsl.analysis: diversity metrics and the model-collapse simulation."""
