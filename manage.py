#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    from config import embedded

    # Before Django reads its settings: embedded PostgreSQL / Redis where no URL is set (a
    # second command next to a running bin/run attaches to them and leaves them running).
    embedded.ensure()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
