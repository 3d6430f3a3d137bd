"""Lets `python -m newapp` run the command line."""

from newapp.cli import main

main()
