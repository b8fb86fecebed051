"""Backup coverage of the paper register, cover sheets and QA spot checks."""
