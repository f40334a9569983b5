import sys

from mcp_host.cli import main

sys.exit(main())
