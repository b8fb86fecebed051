"""Keeping stored copies sound: verification, recovery, key rotation, orphans."""
