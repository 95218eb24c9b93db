"""Plumbing between threads: the inbox."""
