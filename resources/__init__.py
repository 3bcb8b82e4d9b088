"""``twin_app.resources``: the data files the app reads at run time.

This folder is the package ``twin_app.resources`` (pyproject.toml maps it with ``package-dir``): the wheel carries it
as ``twin_app/resources/``, and an editable install (``pip install -e .``) finds it here. Read its files through
:func:`path` (``importlib.resources``), never through a path relative to the source tree.

- ``responsibility.csv``: who answers which alarm or event, how fast, with how many units (the dispatcher)
- ``units.csv``: the units that can be dispatched
- ``config.example.toml``: a complete configuration file, every key explained (``twin-app config check`` accepts it)
- ``twin-app.svg``: the app's icon (the same as ``assets/twin-app.svg``, which the packages render from)
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable


def path(name: str) -> Traversable:
    """The shipped resource file `name` (a real file on disk in a wheel or editable install)."""
    return files(__name__).joinpath(name)
