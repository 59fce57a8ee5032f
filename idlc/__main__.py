import sys

from idlc.cli import main

sys.exit(main())
