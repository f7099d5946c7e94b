#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.management import execute_from_command_line

    from config import instance

    django.setup()
    # A command against an instance that is not set up says so, and creates nothing.
    problem = instance.guard(sys.argv)
    if problem:
        sys.stderr.write(f"Error: {problem}\n")
        sys.exit(1)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
