"""``python -m polyzarr``: the same as the ``polyzarr`` command."""

import sys

from .cli import main

sys.exit(main())
