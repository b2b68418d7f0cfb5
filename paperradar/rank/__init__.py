"""Ranking: ordering what the indexes find (search results, feeds)."""
