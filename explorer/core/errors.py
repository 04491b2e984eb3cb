"""The library's one error family: what went wrong, and which input (``field``) it was.

Two kinds, because a caller treats them differently:

- :class:`SpecError` — bad input (an architecture field, a batch size, a device name, a budget): the CLI
  exits with status 2; the app shows the message beside the field, under its visible label.
  :class:`ResourceError` is one of them: a request the memory budget refuses before anything is allocated.
- :class:`DeviceError` — the input was fine but the device failed (out of memory while running, a driver
  error): the CLI exits with status 1. :class:`OutOfMemory` is one of them.

:class:`Cancelled` is neither: the caller asked a long measurement to stop.

``str(error)`` is ``"field: reason"``, so a message always starts with the field it is about.
"""

from __future__ import annotations


class ExplorerError(Exception):
    """An error the library explains. ``field`` names the input at fault (``None`` when no input is)."""

    def __init__(self, field: str | None, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}" if field else reason)


class SpecError(ExplorerError, ValueError):
    """Bad input: an invalid spec field, argument or setting; ``field`` names it (CLI exit status 2)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(field, reason)


class ResourceError(SpecError):
    """The request would exceed the memory budget; refused before anything is allocated."""


class DeviceError(ExplorerError, RuntimeError):
    """The device failed to run valid input (CLI exit status 1); memory has been freed."""

    def __init__(self, reason: str) -> None:
        super().__init__(None, reason)


class OutOfMemory(DeviceError):
    """The device ran out of memory; a smaller batch may fit."""


class Cancelled(ExplorerError):
    """``should_stop`` asked a measurement to stop before it had a result."""

    def __init__(self, reason: str) -> None:
        super().__init__(None, reason)


__all__ = ["Cancelled", "DeviceError", "ExplorerError", "OutOfMemory", "ResourceError", "SpecError"]
