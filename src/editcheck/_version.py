"""editcheck's version, in one place: the package metadata (pyproject.toml) and ``editcheck.__version__`` read it.

A module of its own so that ``import editcheck`` (every command) does not load :mod:`importlib.metadata` (~30 ms)
to find it."""

__version__ = "0.1.0"
