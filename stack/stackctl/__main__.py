"""`python3 -m stack.stackctl ...`: the stack manager's command line."""

import sys

from .cli import main

sys.exit(main(sys.argv[1:]))
