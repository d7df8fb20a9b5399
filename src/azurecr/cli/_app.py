"""Argument parsing, dispatch, and the one-line errors with meaningful exit statuses."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any, Optional

from .._version import VERSION

__all__ = ["main", "build_parser"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_BROKEN_PIPE = 141
EXIT_INTERRUPTED = 130

PROG = "azurecr"

DESCRIPTION = """\
Work with an Azure Container Registry (or any OCI registry) from the command line:
list, inspect, lock and delete content; push files as an OCI artifact, pull them
back, copy artifacts between repositories."""

EPILOG = """\
references:
  REPOSITORY[:TAG][@DIGEST], optionally prefixed by the registry
  (myregistry.azurecr.io/hello:1.0); a registry named in a reference wins over
  --registry for that reference. With both a tag and a digest, the digest is used.

authentication (first that applies):
  --anonymous                   no credential (registries allowing anonymous pull)
  --username/-u + --password-stdin, or AZURECR_USERNAME + AZURECR_PASSWORD
                                admin user or repository-scoped token
  otherwise                     azure-identity's DefaultAzureCredential
                                (environment, managed identity, az login, ...)

environment:
  AZURECR_REGISTRY, AZURECR_USERNAME, AZURECR_PASSWORD, AZURECR_CA_BUNDLE

exit status:
  0    success
  1    the operation failed: not found, refused by the registry (e.g. locked),
       content did not verify, network or file error
  2    usage error (bad arguments, missing registry or confirmation)
  3    authentication or authorization failed (HTTP 401/403, no credential)
  130  interrupted (Ctrl-C)
"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32)


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """The options every command takes, before or after the command name.

    On the subcommand parsers the defaults are SUPPRESS, so a value given before the
    command is not reset by the subparser.
    """

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    g = parser.add_argument_group("global options")
    g.add_argument(
        "-r",
        "--registry",
        metavar="ENDPOINT",
        default=default(None),
        help="login server, e.g. myregistry.azurecr.io (https:// implied); "
        "default: $AZURECR_REGISTRY",
    )
    g.add_argument(
        "-u",
        "--username",
        default=default(None),
        help="username (admin user or token name); default: $AZURECR_USERNAME",
    )
    g.add_argument(
        "--password-stdin",
        action="store_true",
        default=default(False),
        help="read the password from standard input (else $AZURECR_PASSWORD)",
    )
    g.add_argument(
        "--anonymous",
        action="store_true",
        default=default(False),
        help="send no credential",
    )
    g.add_argument(
        "--ca-bundle",
        metavar="PATH",
        default=default(None),
        help="PEM file of CAs to trust (private registries); default: $AZURECR_CA_BUNDLE",
    )
    g.add_argument(
        "--allow-insecure-http",
        action="store_true",
        default=default(False),
        help="allow credentials over plain http (a local registry at http://...)",
    )
    g.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print results as JSON (no tables, no progress bars, no notes)",
    )
    g.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=default(False),
        help="print results only: no notes, summaries or progress bars",
    )
    g.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help="show the full traceback of an error",
    )


def _concurrency(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 1 <= n <= 64:
        raise argparse.ArgumentTypeError("must be between 1 and 64")
    return n


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {VERSION}")
    _global_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_: str, description: Optional[str] = None) -> Any:
        p = sub.add_parser(
            name,
            help=help_,
            description=description or help_,
            epilog=EPILOG,
            formatter_class=_Formatter,
        )
        _global_options(p, suppress=True)
        return p

    command("repos", "list repositories")

    order = ["timedesc", "timeasc"]
    p = command("tags", "list a repository's tags (by name, or by time with --order)")
    p.add_argument("repository", metavar="REPOSITORY")
    p.add_argument("--order", choices=order, help="by last update, newest or oldest first")

    p = command("manifests", "list a repository's manifests")
    p.add_argument("repository", metavar="REPOSITORY")
    p.add_argument("--order", choices=order, help="by last update, newest or oldest first")

    p = command(
        "show",
        "show properties of a repository, a tag (and its manifest) or a manifest",
    )
    p.add_argument("reference", metavar="REPOSITORY[:TAG|@DIGEST]")

    p = command(
        "referrers",
        "list the artifacts that refer to a manifest (signatures, SBOMs, ...)",
    )
    p.add_argument("reference", metavar="REPOSITORY:TAG|REPOSITORY@DIGEST")
    p.add_argument("--artifact-type", metavar="TYPE", help="only referrers of this type")

    lock_help = (
        "REPOSITORY:TAG locks the tag and the manifest it points at; REPOSITORY@DIGEST the "
        "manifest; REPOSITORY the repository. Locked: no write (no overwrite, no tag move) "
        "and no delete."
    )
    p = command(
        "lock",
        "make a tag, manifest or repository read-only and undeletable",
        "Make content read-only and undeletable. " + lock_help,
    )
    p.add_argument("reference", metavar="REPOSITORY[:TAG|@DIGEST]")
    p = command(
        "unlock",
        "allow write and delete again (undo lock)",
        "Allow write and delete again. " + lock_help.replace("locks", "unlocks"),
    )
    p.add_argument("reference", metavar="REPOSITORY[:TAG|@DIGEST]")

    p = command(
        "delete",
        "delete a tag, a manifest or a repository",
        "Delete content. REPOSITORY:TAG deletes the tag only (the manifest stays, reachable "
        "by digest and its other tags), or with --manifest the manifest it points at and "
        "all of that manifest's tags. REPOSITORY@DIGEST deletes the manifest and its tags. "
        "REPOSITORY deletes the whole repository and needs --yes. Deleting something that "
        "does not exist fails (exit 1) unless --if-exists.",
    )
    p.add_argument("reference", metavar="REPOSITORY[:TAG|@DIGEST]")
    p.add_argument(
        "--manifest",
        action="store_true",
        help="for REPOSITORY:TAG: delete the manifest the tag points at (and all its tags)",
    )
    p.add_argument("--yes", "-y", action="store_true", help="confirm deleting a repository")
    p.add_argument("--if-exists", action="store_true", help="succeed if it does not exist")

    p = command(
        "push",
        "push files as an OCI artifact",
        "Push files as the layers of an OCI artifact (one layer per file, titled with the "
        "file's name) under REPOSITORY[:TAG]. Prints the manifest digest.",
    )
    p.add_argument("reference", metavar="REPOSITORY[:TAG]")
    p.add_argument("files", metavar="FILE", nargs="+")
    p.add_argument(
        "--artifact-type",
        metavar="TYPE",
        help="the artifact's type (default application/vnd.unknown.artifact.v1)",
    )
    p.add_argument(
        "--media-type",
        metavar="TYPE",
        help="media type of every file's layer (default application/vnd.oci.image.layer.v1.tar)",
    )
    p.add_argument(
        "--annotation",
        "-a",
        metavar="KEY=VALUE",
        action="append",
        help="a manifest annotation (repeatable)",
    )
    p.add_argument(
        "--subject",
        metavar="TAG|DIGEST",
        help="the manifest (same repository) this artifact refers to, as for a signature",
    )
    p.add_argument(
        "--concurrency",
        type=_concurrency,
        default=4,
        metavar="N",
        help="blobs transferred at once (default 4)",
    )

    p = command(
        "pull",
        "pull an artifact's files into a directory",
        "Pull the files of an artifact into a directory: each layer titled by an "
        "org.opencontainers.image.title annotation becomes that file, others are named "
        "after their digest. Every byte is verified; files appear only when all verified. "
        "Prints the paths written.",
    )
    p.add_argument("reference", metavar="REPOSITORY:TAG|REPOSITORY@DIGEST")
    p.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        default=".",
        help="directory to write into (created if needed; default: .)",
    )
    p.add_argument(
        "--platform",
        metavar="OS/ARCH[/VARIANT]",
        help="for a multi-platform image (default: this machine's)",
    )
    p.add_argument(
        "--concurrency",
        type=_concurrency,
        default=4,
        metavar="N",
        help="blobs transferred at once (default 4)",
    )

    p = command(
        "copy",
        "copy an artifact to another repository (or registry)",
        "Copy an artifact (manifest, index and every blob) to another repository. Within a "
        "registry blobs are mounted, not transferred; to another registry (named in the "
        "destination, or --to-registry) they stream through this machine, verified, with "
        "the same kind of credential. Without a destination tag, the source tag is used. "
        "Prints the copied manifest's digest.",
    )
    p.add_argument("source", metavar="SOURCE", help="REPOSITORY:TAG or REPOSITORY@DIGEST")
    p.add_argument("destination", metavar="DESTINATION", help="REPOSITORY[:TAG]")
    p.add_argument(
        "--to-registry",
        metavar="ENDPOINT",
        help="the destination's registry (default: the source's)",
    )
    p.add_argument(
        "--include-referrers",
        action="store_true",
        help="also copy the artifacts that refer to it (signatures, SBOMs)",
    )
    p.add_argument(
        "--concurrency",
        type=_concurrency,
        default=4,
        metavar="N",
        help="blobs transferred at once (default 4)",
    )
    return parser


# ------------------------------------------------------------------------------ errors
def _one_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return " ".join(line.split())
    return text.strip() or "unknown error"


def classify(exc: BaseException, subject: Optional[str] = None) -> tuple[int, str]:
    """(exit status, one-line message) for an exception from a command.

    ``subject``: the reference the command was working on, to prefix registry errors.
    """
    from azure.core.exceptions import (
        AzureError,
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
    )

    from .._errors import DigestValidationError
    from ._output import MissingRichError
    from ._session import Failure, UsageError

    if isinstance(exc, UsageError):
        return EXIT_USAGE, str(exc)
    if isinstance(exc, Failure):
        return EXIT_FAILED, str(exc)
    if isinstance(exc, MissingRichError):
        return EXIT_USAGE, str(exc)
    if isinstance(exc, ClientAuthenticationError):
        message = _one_line(exc.message if getattr(exc, "message", None) else str(exc))
        if (
            type(exc).__name__ == "CredentialUnavailableError"
            or "DefaultAzureCredential" in message
        ):
            message += (
                " (sign in with `az login`, or pass --username/--password-stdin or --anonymous)"
            )
        status = getattr(exc, "status_code", None)
        return EXIT_AUTH, f"authentication failed: {message}" + (
            f" (HTTP {status})" if status else ""
        )
    if isinstance(exc, HttpResponseError):
        status = exc.status_code
        error = exc.error
        code = getattr(error, "code", None) if error is not None else None
        text = getattr(error, "message", None) if error is not None else None
        message = _one_line(exc.message if code is None or not text else text)
        if code and message.startswith(f"({code}) "):
            message = message[len(code) + 3 :]
        detail = " ".join(str(x) for x in (f"HTTP {status}" if status else None, code) if x)
        line = f"{message} ({detail})" if detail and detail not in message else message
        if status in (401, 403):
            return EXIT_AUTH, f"not authorized: {line}"
        return EXIT_FAILED, f"{subject}: {line}" if subject else line
    if isinstance(exc, DigestValidationError):
        return EXIT_FAILED, f"verification failed: {_one_line(str(exc))}"
    if isinstance(exc, ServiceRequestError):
        message = _one_line(str(exc))
        if "CERTIFICATE_VERIFY_FAILED" in str(exc):
            message = (
                "TLS certificate not trusted (for a private CA pass --ca-bundle PATH): " + message
            )
        return EXIT_FAILED, f"cannot reach the registry: {message}"
    if isinstance(exc, OSError):
        if exc.strerror and exc.filename:
            return EXIT_FAILED, f"{exc.filename}: {exc.strerror}"
        return EXIT_FAILED, _one_line(str(exc)) or type(exc).__name__
    if isinstance(exc, (ValueError, TypeError, AzureError)):
        return EXIT_FAILED, _one_line(str(exc)) or type(exc).__name__
    raise exc


def _error(message: str) -> None:
    sys.stderr.write(f"{PROG}: error: {message}\n")
    sys.stderr.flush()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the ``azurecr`` command line; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or argparse's usage error (status 2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE

    from ._commands import COMMANDS
    from ._output import Output, require_rich
    from ._session import Session

    session: Optional[Session] = None
    try:
        require_rich()
        out = Output(json_mode=args.json, quiet=args.quiet)
        session = Session(args)
        return COMMANDS[args.command](args, session, out)
    except KeyboardInterrupt:
        if sys.stderr.isatty():
            sys.stderr.write("\n")  # past the ^C (and a progress bar)
        _error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`azurecr tags x | head -1`): stop quietly, like cat does.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except OSError:
            pass
        return EXIT_BROKEN_PIPE
    except Exception as exc:  # noqa: BLE001 - every error becomes one line and a status
        if args.debug:
            traceback.print_exc()
        try:
            status, message = classify(exc, session.subject if session else None)
        except Exception:  # noqa: BLE001 - an unexpected error: say what it is
            if not args.debug:
                traceback.print_exc()
            status, message = EXIT_FAILED, f"unexpected {type(exc).__name__}: {exc}"
        _error(message)
        return status
    finally:
        if session is not None:
            try:
                session.close()
            except Exception:  # noqa: BLE001 - closing must not hide the result
                pass
