"""An import of another module's internals hidden in a function."""


def peek() -> int:
    from tests.app.architecture.samples.boundary.alpha import internals

    return internals.SECRET
