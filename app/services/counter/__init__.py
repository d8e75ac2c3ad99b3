"""counter: public face."""

from . import teller, transfers  # noqa: F401
