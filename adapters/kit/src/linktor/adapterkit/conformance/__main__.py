"""``python -m linktor.adapterkit.conformance [options] -- COMMAND...``"""

import sys

from linktor.adapterkit.conformance import main

if __name__ == "__main__":
    sys.exit(main())
