"""Indexes: how papers are found (keyword now; semantic vectors later)."""
