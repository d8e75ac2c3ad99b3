"""Domain services, one package per domain (see docs/architecture.md).

Each package's ``__init__`` is its public face: other packages and the blueprints import
only that. Services never read ``request`` or ``flask.g`` and never import a blueprint.
"""
