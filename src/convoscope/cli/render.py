"""A page's terminal view (`Page.text`) printed with Rich, user data as plain text.

Every cell is a `rich.text.Text`, which Rich never parses as markup, so `[/]` or `[link=...]`
in a department name prints as typed.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich import box
from rich.table import Table
from rich.text import Text

from convoscope.cli.common import out, say
from convoscope.pages.common import Block


def print_blocks(blocks: Iterable[Block]) -> None:
    for block in blocks:
        if isinstance(block, str):
            say(block)
            continue
        table = Table(title=block.title, box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
        for i, name in enumerate(block.columns):  # a name may fold, never a number
            if i == 0:
                table.add_column(name, overflow="fold")
            else:
                table.add_column(name, justify="right", no_wrap=True)
        for row in block.rows:
            table.add_row(*(Text(str(c)) for c in row))
        out.print(table)
