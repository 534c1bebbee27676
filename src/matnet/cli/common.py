"""What the commands check before their work starts, and the one way they write a picture.

A request that cannot work as given — an output path that cannot be written, a picture
without matplotlib, layer sizes that do not fit MNIST, a network that cannot be built —
becomes a UsageError (one line, exit status 2) before any data is loaded or any run starts,
so that no minutes of work are lost to it afterwards.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence

from matnet.cli.options import N_CLASSES, N_PIXELS
from matnet.errors import UsageError


def check_output_paths(**paths: str | None) -> None:
    """UsageError unless every given output path (``--option=path``) can be written, and no
    two name the same file: checked before the work, so the work is not lost after."""
    from matnet.io import output_path_problem

    seen: dict[str, str] = {}
    for option, path in paths.items():
        if path is None:
            continue
        flag = "--" + option.replace("_", "-")
        problem = output_path_problem(path)
        if problem is not None:
            raise UsageError(f"{flag} {path!r}: {problem}")
        key = os.path.realpath(path)
        if key in seen:
            raise UsageError(f"{seen[key]} and {flag} both name {path!r}: one would overwrite the other")
        seen[key] = flag


def check_pictures(**paths: str | None) -> None:
    """UsageError (one line, before any work) when a picture is asked for (``--option=path``)
    and matplotlib cannot be imported, or cannot write the format the path's suffix names."""
    from matnet import plots

    for option, path in paths.items():
        if path is None:
            continue
        try:
            plots.picture_format(path)
        except plots.PlotUnavailableError as exc:
            raise UsageError(str(exc)) from None
        except plots.PictureFormatError as exc:
            raise UsageError(f"--{option.replace('_', '-')} {exc}") from None


def check_mnist_sizes(sizes: Sequence[int], what: str) -> None:
    """UsageError unless ``sizes`` maps MNIST's pixels to its classes; ``what`` names the option."""
    if sizes[0] != N_PIXELS or sizes[-1] != N_CLASSES:
        raise UsageError(
            f"{what} {','.join(map(str, sizes))} must start with {N_PIXELS} (MNIST's pixels per image) "
            f"and end with {N_CLASSES} (its classes)"
        )


@contextlib.contextmanager
def building_network(sizes: Sequence[int]) -> Iterator[None]:
    """What ``Network(sizes, ...)`` refuses inside the block — sizes too large to allocate, a
    dtype or backend it does not have, ``--backend numba`` without numba — as one UsageError."""
    try:
        yield
    except (ValueError, TypeError, MemoryError, ImportError) as exc:
        raise UsageError(f"cannot build a network of sizes {list(sizes)}: {exc}") from None


def save_figure(fig, path: str) -> int:
    """Write ``fig`` to ``path`` atomically: 0, or 1 and one line on stderr when it cannot be."""
    from matnet import plots

    try:
        plots.save(fig, path)
    except OSError as exc:
        print(f"matnet: cannot write the picture: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path}", file=sys.stderr)
    return 0
