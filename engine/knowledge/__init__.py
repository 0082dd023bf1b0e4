"""The knowledge base: its schema, loading, lint and caches."""
