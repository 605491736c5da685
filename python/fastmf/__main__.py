import sys

from .cli import main

if __name__ == "__main__":        # not when a worker process (fastmf.distributed) imports it
    sys.exit(main())
