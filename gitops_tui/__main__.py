"""Allow ``python -m gitops_tui``."""

import sys

from gitops_tui.cli import main

sys.exit(main())
