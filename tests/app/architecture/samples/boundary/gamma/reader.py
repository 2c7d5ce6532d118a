"""gamma depends on alpha, so it may import it (a synchronous read)."""

import importlib

from tests.app.architecture.samples.boundary.alpha.internals import SECRET


def read() -> int:
    internals = importlib.import_module("..alpha.internals", __package__)
    return SECRET + int(internals.SECRET)
