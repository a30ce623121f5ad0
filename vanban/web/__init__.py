"""`vanban serve OUTDIR`: a local web page to search, read and review a vanban output directory."""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import sys
from pathlib import Path

from vanban.core.errors import VanbanError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def run_serve(args: argparse.Namespace) -> int:
    """Update the index, then serve until interrupted; 1 when OUTDIR or the index is unusable."""
    import uvicorn

    from vanban.index import index_outdir
    from vanban.web.app import Site, create_app

    outdir, db = Path(args.outdir), Path(args.db)
    try:
        report = index_outdir(outdir, db)
    except VanbanError as exc:
        print(f"vanban: error: {exc}", file=sys.stderr)
        return 1
    for failure in report.failed:
        print(f"vanban: error: {failure}", file=sys.stderr)
    print(f"{db}: {report.summary()}", file=sys.stderr)
    site = Site(
        outdir,
        db,
        review=args.review,
        reviewer=args.reviewer,
        scan_dirs=tuple(Path(d) for d in args.scans),
        cache_dir=Path(args.cache) if args.cache else None,
    )
    if not _is_loopback(args.host):
        print(
            f"vanban: warning: serving on {args.host}: anyone who can reach it can read "
            f"{'and correct ' if args.review else ''}these documents",
            file=sys.stderr,
        )
    hosts = ["*"] if not _is_loopback(args.host) else ["127.0.0.1", "localhost", args.host]
    mode = "review mode: corrections go to vanban-corrections.jsonl" if args.review else "read-only"
    print(f"vanban: serving {outdir} at http://{args.host}:{args.port}/ ({mode})", file=sys.stderr)
    uvicorn.run(
        create_app(site, allowed_hosts=hosts), host=args.host, port=args.port, log_level="warning"
    )
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _default_reviewer() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "reviewer"


def register_cli(subparsers) -> None:
    """Add the `serve` subcommand to the vanban CLI."""
    parser = subparsers.add_parser(
        "serve",
        help="search, read and review an output directory in a web browser",
        description="Serve OUTDIR on a local web page: faceted search, each document with its "
        "scan beside the text, agencies across documents; with --review, corrections of doubtful "
        "words, lines and assignments go to OUTDIR/vanban-corrections.jsonl (append-only; the "
        "outputs are never rewritten; `vanban index` and `vanban export` apply them).",
    )
    parser.add_argument("outdir", metavar="OUTDIR", help="a vanban output directory")
    parser.add_argument(
        "--db",
        default="corpus.sqlite",
        help="index file, built or updated on start (default: corpus.sqlite)",
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="address to bind (default: %(default)s)"
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="default: %(default)s")
    parser.add_argument(
        "--review", action="store_true", help="allow corrections (default: read-only)"
    )
    parser.add_argument(
        "--reviewer",
        default=_default_reviewer(),
        help="name recorded with corrections (default: the login name)",
    )
    parser.add_argument(
        "--scans",
        action="append",
        default=[],
        metavar="DIR",
        help="where to look for source scans named relatively in the JSON",
    )
    parser.add_argument(
        "--cache", metavar="DIR", help="page and crop image cache (default: OUTDIR/.vanban-cache)"
    )
    parser.set_defaults(func=run_serve)
