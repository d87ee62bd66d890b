"""`python -m launcher up` = `payloops up`."""

import sys

from launcher.cli import main

sys.exit(main())
