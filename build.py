"""Thin entry point: python build.py [build|check|schema|new] ..."""

import sys

from generator.cli import main

if __name__ == "__main__":
    sys.exit(main())
