"""Evaluation: QA sets, the `rag eval` harness, calibration scripts."""
