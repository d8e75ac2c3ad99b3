"""Domain services: no ``request``, no ``flask.g``; one module per domain."""
