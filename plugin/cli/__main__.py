"""``python -m mentorbridge.plugin.cli`` runs the command line (as the ``mentorbridge`` script does)."""

from mentorbridge.plugin.cli import main

main()
