"""Composition root: configuration, the embedded broker, the CLI."""
