"""Keeping processes lean: what they import, when, and how much runs at once.

- `hidden`: import a package without the optional extras it would load on its own.
- `lazy_attributes`: a package's names that load with their module on first use.
- `cores`: the CPUs this process may use, for what runs one per core.

Some packages import an optional companion whenever it happens to be installed, used or not:
pyarrow imports numpy (~17 MB); httpx imports its command line client, which loads rich,
click and pygments (~10 MB) when those are installed, as they are next to the test tools
and Celery. The connector uses neither. Every process that pulls pays for what it imports
(the CLI's target is 150 MB, a worker's 200 MB: bench/README.md), so those imports are
made with the extra hidden; the package falls back to what it does without it, and the
extra stays importable afterwards for whoever needs it.
"""

from __future__ import annotations

import importlib
import importlib.abc
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class _Hidden(importlib.abc.MetaPathFinder):
    def __init__(self, names: tuple[str, ...]):
        self.names = names

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if any(name == n or name.startswith(n + ".") for n in self.names):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


@contextmanager
def hidden(*names: str) -> Iterator[None]:
    """Imports inside the block see `names` (and their submodules) as not installed."""
    finder = _Hidden(names)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def lazy_attributes(package: str, where: dict[str, str]) -> tuple[Any, Any]:
    """A package's PEP 562 `__getattr__` and `__dir__` for names that load with their module
    on first use: `where` maps each name to its module (absolute, or relative to `package`
    with a leading dot). Naming the package then costs nothing, so a process that only serves
    pages never loads deltalake, pandas or pyarrow through it (datacenter.tables,
    datacenter.metrics, twilio_reports.service)."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        setattr(sys.modules[package], name, value)  # the next lookup is a plain attribute
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(where))

    return __getattr__, __dir__


def cores() -> int:
    """The CPUs this process may run on (its affinity, which containers' cpusets set; not
    the host's count), at least 2. Sizes what runs one per core: body slots, malloc arenas."""
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        count = os.cpu_count() or 2
    return max(2, count)
