"""`python -m samples.lessons [NAME ...]`: see samples/lessons/__init__.py."""

from __future__ import annotations

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
