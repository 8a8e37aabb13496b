"""`python -m infra.consistency`: recount the derived data from the records and report every difference.

On AWS, run it with the stack's environment. Against the running local platform: `make check-data`
(= `python -m infra.consistency --local`, which points at the local AWS on MOTO_PORT with the local stage's
settings). Exit status 0 when everything agrees, 1 otherwise (the differences are printed as JSON).
"""

from __future__ import annotations

import argparse
import json
import os


def local_environment(moto_port: int) -> dict[str, str]:
    from infra.local.runtime import aws_environment, stage_environment

    return {
        **stage_environment("local"),
        **aws_environment(f"http://127.0.0.1:{moto_port}", moto_port, "us-east-1"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.consistency", description=__doc__.splitlines()[0])
    parser.add_argument("--local", action="store_true", help="check the local platform's AWS on MOTO_PORT")
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT", "5050")))
    args = parser.parse_args(argv)
    if args.local:
        os.environ.update(local_environment(args.moto_port))
    from chalicelib.wiring import get_consistency_check

    report = get_consistency_check().run()
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
