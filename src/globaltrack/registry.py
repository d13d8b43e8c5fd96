"""A tiny name -> factory registry, as the VOT toolkit registers trackers and analyses by name.

Entries register themselves with a decorator in the module that defines them; `discover()` imports every module of
a package once so adding an entry touches one file. Modules keep heavy imports (torch, cv2) inside functions.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable

from globaltrack.errors import UserError


@dataclass
class Entry:
    name: str
    factory: Callable[..., Any]
    description: str = ""
    aliases: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


class Registry:
    def __init__(self, kind: str, package: str):
        self.kind = kind
        self.package = package
        self._entries: dict[str, Entry] = {}
        self._aliases: dict[str, str] = {}
        self._discovered = False

    def register(self, name: str, description: str = "", aliases: tuple[str, ...] = (), **extra: Any):
        def deco(factory):
            key = name.lower()
            self._entries[key] = Entry(key, factory, description, tuple(a.lower() for a in aliases), dict(extra))
            for a in aliases:
                self._aliases[a.lower()] = key
            return factory

        return deco

    def discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        pkg = importlib.import_module(self.package)
        # Only the package's direct modules and subpackages' __init__: a subpackage (trackers/globaltrack) registers
        # itself in its __init__ without importing torch, so listing names stays fast.
        for mod in pkgutil.iter_modules(pkg.__path__, self.package + "."):
            if mod.name.rsplit(".", 1)[-1].startswith("_"):
                continue
            importlib.import_module(mod.name)

    def get(self, name: str) -> Entry:
        self.discover()
        key = name.lower()
        key = self._aliases.get(key, key)
        if key not in self._entries:
            known = ", ".join(sorted(self._entries))
            raise UserError(f"unknown {self.kind} '{name}'; known: {known}")
        return self._entries[key]

    def names(self) -> list[str]:
        self.discover()
        return sorted(self._entries)

    def entries(self) -> list[Entry]:
        self.discover()
        return [self._entries[k] for k in sorted(self._entries)]
