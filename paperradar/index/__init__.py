"""Indexes: how papers are found: by word (tantivy), by meaning (embeddings and a vector index)."""
