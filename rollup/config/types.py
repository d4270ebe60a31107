"""Value types that more than one configuration file uses: an id, and one string or a list of them."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, StringConstraints


def as_list(value: Any) -> Any:
    """A single string where a list is expected becomes a one-item list."""
    return [value] if isinstance(value, str) else value


#: An id: letters, digits, ``-``, ``_``, ``.`` or ``:``; starts with a letter or digit.
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", max_length=64)]
#: One string or a list of strings.
StrList = Annotated[list[str], BeforeValidator(as_list)]
