"""Offline evaluation: ranking metrics and the evaluation-set protocols."""
