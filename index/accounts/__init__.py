"""People, roles, sessions and tokens, the audit trail, personal-information masking."""
