"""``python -m benchmarks``: the side-by-side benchmark (see ``benchmarks/side_by_side.py``)."""

import sys

from benchmarks.side_by_side import main

sys.exit(main())
