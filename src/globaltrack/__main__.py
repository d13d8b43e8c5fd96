"""``python -m globaltrack`` is the ``globaltrack`` command."""
import sys

from globaltrack.harness.cli import main

sys.exit(main())
