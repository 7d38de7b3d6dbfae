"""The recipe JSON Schema, shipped as package data."""
