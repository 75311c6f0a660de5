"""Regular expressions compiled on first use, not at import.

The offline parser holds ~110 patterns and one message reaches only a third of them;
compiling them all at import was a large share of `coo parse`'s start. ``lazy_re`` takes the
same arguments as ``re.compile`` and compiles on first use (through ``re.compile``, so the
pattern text and flags, and so the matches, are exactly those of ``re.compile``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

# What a LazyPattern takes over from its compiled pattern on first use.
_TAKEN = (
    "search",
    "match",
    "fullmatch",
    "finditer",
    "findall",
    "sub",
    "subn",
    "split",
    "flags",
    "groups",
    "groupindex",
)


class LazyPattern:
    """The part of ``re.Pattern[str]`` the parser uses, compiled the first time it is needed.

    Until then the methods are missing and ``__getattr__`` compiles; it then sets the compiled
    pattern's own bound methods on the instance, so every later call goes straight to them.
    """

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self._flags = flags

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in _TAKEN:
            raise AttributeError(name)
        compiled = re.compile(self.pattern, self._flags)
        for attr in _TAKEN:
            setattr(self, attr, getattr(compiled, attr))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazy_re({self.pattern!r}, {self._flags!r})"

    if TYPE_CHECKING:  # provided by the compiled re.Pattern[str] (see __getattr__)
        flags: int
        groups: int
        groupindex: Any

        def search(self, string: str, pos: int = ..., endpos: int = ...) -> re.Match[str] | None: ...
        def match(self, string: str, pos: int = ..., endpos: int = ...) -> re.Match[str] | None: ...
        def fullmatch(self, string: str, pos: int = ..., endpos: int = ...) -> re.Match[str] | None: ...
        def finditer(self, string: str, pos: int = ..., endpos: int = ...) -> Iterator[re.Match[str]]: ...
        def findall(self, string: str, pos: int = ..., endpos: int = ...) -> list[Any]: ...
        def sub(self, repl: str | Callable[[re.Match[str]], str], string: str, count: int = ...) -> str: ...
        def subn(
            self, repl: str | Callable[[re.Match[str]], str], string: str, count: int = ...
        ) -> tuple[str, int]: ...
        def split(self, string: str, maxsplit: int = ...) -> list[str | Any]: ...


def lazy_re(pattern: str, flags: int = 0) -> LazyPattern:
    """``re.compile(pattern, flags)``, deferred to the first match."""
    return LazyPattern(pattern, flags)
