"""``python -m orchestrator`` runs the CLI (same as ``astra-cosim``)."""

import sys

from orchestrator.cli.main import main

sys.exit(main())
