"""``python -m plugin.cli`` runs the command line (as the ``mentorbridge`` script does)."""

from plugin.cli import main

main()
