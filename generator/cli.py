"""Command line: kspay-pages build | check | serve | schema | new | payments."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog="kspay-pages", description="Build KSPay order pages from merchant YAML files.")
    commands = parser.add_subparsers(dest="command")

    build = commands.add_parser("build", help="build every sites/*.yaml into _site/")
    build.add_argument("--sites", type=Path, default=Path("sites"), help="folder of merchant files")
    build.add_argument("--out", type=Path, default=Path("_site"), help="output folder")
    build.add_argument("--force", action="store_true", help="render every page, changed or not")
    build.add_argument("--jobs", type=int, default=None,
                       help="worker processes (default: one per core)")
    strict = "treat warnings (missing seller information) as errors"
    build.add_argument("--strict", action="store_true", help=strict)
    build.add_argument("--no-wait", action="store_true",
                       help="exit 1 at once if another build is writing the output folder")
    build.add_argument("--no-reference", dest="reference", action="store_false",
                       help="publish only the shops: no reference/ appendix")
    build.add_argument("--base-url", metavar="URL",
                       help="where the output is published, https://.../ (canonical links, "
                       "Open Graph tags, sitemap.xml, robots.txt, QR codes and posters)")

    check = commands.add_parser("check", help="validate merchant files, write nothing")
    check.add_argument("paths", nargs="+", type=Path, metavar="FILE|DIR")
    check.add_argument("--strict", action="store_true", help=strict)

    schema = commands.add_parser("schema", help="print the JSON Schema of a merchant file")
    schema.add_argument("--markdown", action="store_true",
                        help="print the README's table of keys instead")

    serve = commands.add_parser("serve", help="build, serve on 127.0.0.1 and rebuild on change")
    serve.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (0: any free)")
    serve.add_argument("--sites", type=Path, default=Path("sites"), help="folder of merchant files")
    serve.add_argument("--sandbox", action="store_true",
                       help="post order forms to a local sandbox KSPay window")

    new = commands.add_parser("new", help="write a commented starter sites/SLUG.yaml")
    new.add_argument("slug")
    new.add_argument("--sites", type=Path, default=Path("sites"), help="folder of merchant files")

    from .payments.cli import add_commands

    add_commands(commands)

    args = parser.parse_args(argv)
    command = args.command or "build"
    if command == "payments":
        from .payments.cli import run

        return run(args)
    if command == "build" and args.command is None:
        args = parser.parse_args(["build", *argv])
    if command == "build":
        return _build(args.sites, args.out, args.force, args.jobs, not args.no_wait,
                      args.strict, args.reference, args.base_url)
    if command == "check":
        return _check(args.paths, args.strict)
    if command == "serve":
        return _serve(args.sites, args.port, args.sandbox)
    if command == "schema":
        import json

        from .config import json_schema, readme_table

        if args.markdown:
            print(readme_table(), end="")
            return 0
        json.dump(json_schema(), sys.stdout, ensure_ascii=False, indent=2)
        print()
        return 0
    return _new(args.slug, args.sites)


def _fail(errors: list[str], outcome: str = "nothing was written") -> int:
    for line in errors:
        print(line, file=sys.stderr)
    print(f"{len(errors)} error(s); {outcome}", file=sys.stderr)
    return 1


def _warn(warnings: list[str] | tuple[str, ...]) -> None:
    for line in warnings:
        print(line, file=sys.stderr)
    if warnings:
        print(f"{len(warnings)} warning(s): pages are published, but a Korean online store "
              "must show this; --strict makes warnings errors", file=sys.stderr)


def _build(sites: Path, out: Path, force: bool, jobs: int | None, wait: bool,
           strict: bool, reference: bool = True, base_url: str | None = None) -> int:
    from . import output, pipeline

    options = pipeline.BuildOptions(reference=reference, base_url=base_url)
    try:
        report = pipeline.build(sites, out, options=options,
                                force=force, jobs=jobs, wait=wait, strict=strict)
    except pipeline.BuildFailed as exc:
        return _fail(exc.errors)
    except output.OutputBusy as exc:
        return _fail([str(exc)])
    except OSError as exc:  # the disk is full, a folder is read-only, ...
        paths = " -> ".join(str(p) for p in (exc.filename, exc.filename2) if p)
        swap_owed = output.sidecar(out.resolve(), "journal.json").exists()
        return _fail([f"{out}: cannot write the site: {exc.strerror or exc}"
                      + (f" ({paths})" if paths else "")],
                     "publishing stopped part way: fix the cause and build again to finish it"
                     if swap_owed else "nothing was written")
    _warn(report.warnings)
    print(report.summary(out))
    return 0


def _check(paths: list[Path], strict: bool) -> int:
    from . import pipeline

    missing = [f"{p}: no such file or folder" for p in paths if not p.exists()]
    errors, warnings = pipeline.check([p for p in paths if p.exists()])
    errors = missing + errors + (warnings if strict else [])
    if not strict:
        _warn(warnings)
    if errors:
        for line in errors:
            print(line, file=sys.stderr)
        print(f"{len(errors)} error(s)", file=sys.stderr)
        return 1
    count = len(pipeline.site_files(paths))
    print(f"{count} merchant file(s) valid")
    return 0


def _serve(sites: Path, port: int, use_sandbox: bool) -> int:
    from .devserver.server import DevServer

    try:
        server = DevServer(sites, port, use_sandbox)
    except OSError as exc:
        return _fail([f"cannot listen on 127.0.0.1:{port}: {exc.strerror}"])
    server.serve_forever()
    return 0


def _new(slug: str, sites: Path) -> int:
    import os
    import re

    from . import kspay, starter
    from .config import SCHEMA_COMMENT, SCHEMA_FILE

    if re.fullmatch(kspay.SLUG_PATTERN, slug) is None:
        return _fail([f"{slug}: a slug is lower-case letters, digits and single hyphens"])
    target = sites / f"{slug}.yaml"
    if target.exists():
        return _fail([f"{target}: already exists; not overwritten"])
    sites.mkdir(parents=True, exist_ok=True)
    # The schema as `kspay-pages schema > kspay-pages.schema.json` writes it in the working
    # folder, from where the file is: the editor's YAML language server reads the line.
    schema = Path(os.path.relpath(Path.cwd() / SCHEMA_FILE, sites.resolve())).as_posix()
    target.write_text(f"{SCHEMA_COMMENT}{schema}\n{starter.STARTER}", encoding="utf-8")
    print(f"wrote {target}; edit it, then run: kspay-pages check {target}")
    if not Path(SCHEMA_FILE).exists():
        print(f"for your editor to check it as you type: kspay-pages schema > {SCHEMA_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
