import sys

from jaxstress.cli import main

sys.exit(main())
