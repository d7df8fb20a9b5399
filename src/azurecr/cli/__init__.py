"""The ``azurecr`` command line (``pip install 'azurecr[cli]'``): ``azurecr --help``.

Also runnable as ``python -m azurecr.cli``. rich (the ``cli`` extra) draws the tables and
progress bars; it is imported only when a command runs.
"""

from ._app import main

__all__ = ["main"]
