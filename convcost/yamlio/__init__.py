"""YAML in and out: reading with marks, the spec that validates and lowers it, sizing, expressions, writing rewrites back."""
