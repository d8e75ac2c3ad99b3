"""``make bench``: run every benchmark in turn and print the figures."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import bench

SKIP = {"common", "__main__"}


def main() -> None:
    names = sys.argv[1:] or sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name not in SKIP)
    for name in names:
        print(f"== bench.{name}", flush=True)
        importlib.import_module(f"bench.{name}").main([])


if __name__ == "__main__":
    main()
