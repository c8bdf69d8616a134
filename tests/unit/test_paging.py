from __future__ import annotations

import pytest

from gemgate.api.paging import page
from gemgate.core.errors import InvalidArgument


def test_pages_walk_the_whole_list_once() -> None:
    items = list(range(7))
    seen: list[int] = []
    token: str | None = None
    while True:
        chunk, token = page(items, "3", token)
        seen += chunk
        if token is None:
            break
    assert seen == items


@pytest.mark.parametrize(("size", "token"), [("x", None), ("-1", None), ("2", "garbage!")])
def test_bad_paging_input_is_invalid_argument(size: str, token: str | None) -> None:
    with pytest.raises(InvalidArgument):
        page([1, 2, 3], size, token)
