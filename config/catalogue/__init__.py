"""More of the one catalogue, one module per area of the UI (``TEXT`` in each).

Split so each area's sentences sit together; :mod:`papervault.config.messages` merges every
module here into ``CATALOGUE`` and refuses a key defined twice.
"""
