"""VphbError: a failed call, with the errno the emulated kernel call returns."""
from __future__ import annotations

from ._ops import ERRNOS

_NAMES = {v: k for k, v in ERRNOS.items()}


def errno_name(errno: int) -> str:
    """The errno's symbolic name, or ``E<number>`` for one the registry does not list."""
    return _NAMES.get(errno, f"E{errno}")


class VphbError(Exception):
    """An error reply (or a local failure worded as one): ``errno``, ``name`` and ``message``."""

    def __init__(self, errno: int | str, message: str) -> None:
        self.errno: int = ERRNOS[errno] if isinstance(errno, str) else int(errno)
        self.name: str = errno_name(self.errno)
        self.message: str = message
        super().__init__(f"{self.name}: {message}")
