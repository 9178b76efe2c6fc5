"""``python -m maya_tool`` is ``mocap-ae``: handy where scripts are not on PATH (mayapy)."""

import sys

from .cli import main

sys.exit(main())
