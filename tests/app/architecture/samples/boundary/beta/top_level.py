"""A top-level import of another module's internals."""

from tests.app.architecture.samples.boundary.alpha.internals import SECRET

DOUBLE = SECRET * 2
