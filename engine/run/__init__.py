"""Orchestration: one account, many accounts, and the knowledge self-test."""
