"""One router module per area; :func:`papervault.index.web.app.create_app` mounts them."""
