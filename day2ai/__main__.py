"""``python -m day2ai ...``: the same command line as the ``day2ai`` script."""

from day2ai.cli import run

if __name__ == "__main__":
    run()
