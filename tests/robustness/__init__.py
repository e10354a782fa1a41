"""Robustness and security tests (issue 8): broken rule-sets, fuzzing, templates, files, web."""
