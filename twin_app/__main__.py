"""``python -m twin_app`` is ``twin-app``."""

import sys

from twin_app.cli import main

if __name__ == "__main__":
    sys.exit(main())
