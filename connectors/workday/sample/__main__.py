"""Regenerate the sample tenant's report files: ``python -m connectors.workday.sample``.

Without options it rewrites the shipped files in ``connectors/workday/sample/data/`` (500
workers, seed 7, today 2026-11-01); a test checks they equal a fresh regeneration.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mentorbridge.connectors.workday.sample.reports import write_report_files
from mentorbridge.connectors.workday.sample.tenant import generate_tenant

DATA = Path(__file__).resolve().parent / "data"


def main(argv: list[str] | None = None) -> int:
    """Generate a tenant and write its six report files."""
    parser = argparse.ArgumentParser(
        prog="python -m connectors.workday.sample", description=__doc__
    )
    parser.add_argument("--workers", type=int, default=500, help="number of workers (500)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (7)")
    parser.add_argument("--out", type=Path, default=DATA, help=f"directory ({DATA})")
    parser.add_argument("--format", choices=("json", "csv"), default="json", dest="fmt")
    args = parser.parse_args(argv)
    tenant = generate_tenant(args.workers, seed=args.seed)
    for path in write_report_files(tenant, args.out, fmt=args.fmt):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
