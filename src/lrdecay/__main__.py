"""``python -m lrdecay``: the command line (see ``lrdecay --help``)."""

from lrdecay.cli import main

main()
