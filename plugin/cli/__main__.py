"""``python -m mentorbridge.plugin.cli``: the command line the ``mentorbridge`` script runs."""

from mentorbridge.plugin.cli import main

main()
