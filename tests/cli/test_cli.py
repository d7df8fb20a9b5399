"""The ``azurecr`` command line end to end against the test bed, as a subprocess.

Each command's output, JSON, errors (one line on stderr) and exit statuses: 0 ok,
1 failed, 2 usage, 3 authentication.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests.integration._content import push_image, unique_repository
from tests.testbed import TestBed

from ._run import SCRIPT, Result, run, run_in_pty

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def one_error_line(result: Result, status: int, *needles: str) -> str:
    assert result.returncode == status, result
    assert len(result.error_lines) == 1, result.stderr
    (line,) = result.error_lines
    assert line.startswith("azurecr: error: "), line
    for needle in needles:
        assert needle in line, line
    return line


def json_of(result: Result) -> object:
    assert result.returncode == 0, result
    return json.loads(result.stdout)


# ------------------------------------------------------------------------------ usage
def test_help_version_and_usage_errors() -> None:
    help_ = run(None, "--help", script=True)
    assert help_.returncode == 0 and SCRIPT.is_file()
    for command in ("repos", "tags", "manifests", "show", "lock", "unlock", "delete"):
        assert command in help_.stdout
    for command in ("push", "pull", "copy", "referrers"):
        assert command in help_.stdout
    assert "exit status" in help_.stdout and "130" in help_.stdout
    assert run(None, "--version", script=True).stdout.startswith("azurecr ")
    # argparse's own usage errors: status 2
    assert run(None, "frobnicate").returncode == 2
    assert run(None, "tags").returncode == 2
    # ours: one line, status 2
    one_error_line(run(None, "repos"), 2, "no registry", "--registry")
    one_error_line(run(None, "-r", "x.example", "tags", "Upper/Case"), 2, "invalid")
    one_error_line(run(None, "-r", "x.example", "tags", "repo:tag"), 2, "without ':TAG'")
    one_error_line(run(None, "-r", "x.example", "pull", "repo"), 2, "REPOSITORY:TAG")


# ------------------------------------------------------------------------------ listing
def test_repos_tags_manifests_tables_and_json(testbed: TestBed) -> None:
    repo = unique_repository("cli")
    digest1, _ = push_image(testbed, repo, "v1", layer=b"one")
    digest2, _ = push_image(testbed, repo, "v2", "latest", layer=b"two")

    names = json_of(run(testbed, "repos", "--json"))
    assert isinstance(names, list) and repo in names
    table = run(testbed, "repos")
    assert table.returncode == 0 and table.stdout.splitlines()[0].strip() == "REPOSITORY"
    assert repo in table.stdout.split()

    tags = json_of(run(testbed, "--json", "tags", repo))
    assert isinstance(tags, list)
    assert {t["name"]: t["digest"] for t in tags} == {
        "v1": digest1,
        "v2": digest2,
        "latest": digest2,
    }
    assert all(t["can_delete"] is True and t["repository"] == repo for t in tags)
    newest = json_of(run(testbed, "tags", repo, "--order", "timedesc", "--json"))
    assert isinstance(newest, list) and newest[-1]["name"] == "v1"

    table = run(testbed, "tags", repo)
    assert table.returncode == 0 and table.stderr == ""
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["TAG", "DIGEST", "UPDATED", "LOCKED"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["v1"][1] == digest1 and rows["v2"][1] == digest2 and rows["v1"][3] == "-"
    assert all(line == line.rstrip() for line in lines)  # pipe-friendly: no padding

    manifests = json_of(run(testbed, "manifests", repo, "--json"))
    assert isinstance(manifests, list)
    by_digest = {m["digest"]: m for m in manifests}
    assert sorted(by_digest[digest2]["tags"]) == ["latest", "v2"]
    assert by_digest[digest1]["architecture"] == "amd64"
    table = run(testbed, "manifests", repo)
    assert table.stdout.splitlines()[0].split()[:3] == ["DIGEST", "TAGS", "PLATFORM"]
    assert any(digest1 in line and "linux/amd64" in line for line in table.stdout.splitlines())


def test_show_repository_tag_and_manifest(testbed: TestBed) -> None:
    repo = unique_repository("cli")
    digest, _ = push_image(testbed, repo, "v1")

    shown = json_of(run(testbed, "show", repo, "--json"))
    assert isinstance(shown, dict)
    assert shown["repository"]["name"] == repo and shown["repository"]["tag_count"] == 1
    shown = json_of(run(testbed, "show", f"{repo}:v1", "--json"))
    assert isinstance(shown, dict)
    assert shown["tag"]["digest"] == digest == shown["manifest"]["digest"]
    assert shown["manifest"]["tags"] == ["v1"]
    shown = json_of(run(testbed, "show", f"{repo}@{digest}", "--json"))
    assert isinstance(shown, dict) and set(shown) == {"manifest"}

    text = run(testbed, "show", f"{repo}:v1")
    assert text.returncode == 0
    assert f"Tag {repo}:v1" in text.stdout and f"Manifest {repo}@{digest}" in text.stdout
    assert re.search(r"^can_delete\s+yes$", text.stdout, re.M)

    # The registry named in the reference (as docker writes it) replaces --registry.
    host = testbed.endpoint.split("://", 1)[1]
    shown = json_of(run(testbed, "show", f"{host}/{repo}:v1", "--json", AZURECR_REGISTRY=""))
    assert isinstance(shown, dict) and shown["tag"]["digest"] == digest


# ------------------------------------------------------------------------------ lock/delete
def test_lock_refuses_delete_until_unlocked(testbed: TestBed) -> None:
    repo = unique_repository("cli")
    digest, _ = push_image(testbed, repo, "v1", "v2")

    locked = run(testbed, "lock", f"{repo}:v1")
    assert locked.returncode == 0 and locked.stdout == "" and "locked tag" in locked.stderr
    shown = json_of(run(testbed, "show", f"{repo}:v1", "--json"))
    assert isinstance(shown, dict)
    for part in ("tag", "manifest"):  # a tag's lock covers its manifest too
        assert shown[part]["can_write"] is False and shown[part]["can_delete"] is False
    tags = run(testbed, "tags", repo).stdout
    assert re.search(r"^v1 .* write,delete$", tags, re.M), tags

    one_error_line(run(testbed, "delete", f"{repo}:v1"), 1, f"{repo}:v1", "DENIED", "unlock")
    one_error_line(run(testbed, "delete", f"{repo}@{digest}"), 1, "DENIED")
    one_error_line(run(testbed, "delete", f"{repo}:v2", "--manifest"), 1, "DENIED")

    assert run(testbed, "unlock", f"{repo}:v1", "-q").returncode == 0
    deleted = run(testbed, "delete", f"{repo}:v1")
    assert deleted.returncode == 0 and "deleted tag" in deleted.stderr
    remaining = json_of(run(testbed, "tags", repo, "--json"))
    assert isinstance(remaining, list) and [t["name"] for t in remaining] == ["v2"]
    # the manifest stayed; deleting what is gone is an error, unless --if-exists
    assert run(testbed, "show", f"{repo}@{digest}").returncode == 0
    one_error_line(run(testbed, "delete", f"{repo}:v1"), 1, f"{repo}:v1", "404")
    assert run(testbed, "delete", f"{repo}:v1", "--if-exists").returncode == 0

    # a repository needs --yes
    one_error_line(run(testbed, "delete", repo), 2, "--yes", "1 manifest", "1 tag")
    assert run(testbed, "delete", repo, "--yes").returncode == 0
    one_error_line(run(testbed, "show", repo), 1, repo, "NAME_UNKNOWN")


def test_lock_by_digest_and_delete_manifest(testbed: TestBed) -> None:
    repo = unique_repository("cli")
    digest, _ = push_image(testbed, repo, "v1", "v2")
    assert run(testbed, "lock", f"{repo}@{digest}").returncode == 0
    one_error_line(run(testbed, "delete", f"{repo}@{digest}"), 1, "DENIED")
    assert run(testbed, "unlock", f"{repo}@{digest}").returncode == 0
    result = json_of(run(testbed, "delete", f"{repo}:v1", "--manifest", "--json"))
    assert isinstance(result, dict) and result["deleted"] == "manifest"
    assert sorted(result["manifest"]["tags"]) == ["v1", "v2"]
    one_error_line(run(testbed, "show", f"{repo}@{digest}"), 1, "404")


# ------------------------------------------------------------------------------ errors
def test_errors_are_one_line_with_meaningful_status(testbed: TestBed, tmp_path: Path) -> None:
    missing = unique_repository("cli-missing")
    one_error_line(run(testbed, "tags", missing), 1, missing, "NAME_UNKNOWN")
    one_error_line(run(testbed, "show", f"{missing}:v1"), 1, missing)
    one_error_line(
        run(testbed, "repos", AZURECR_PASSWORD="wrong-password"), 3, "authentication failed"
    )
    # no trust for the private CA: one line, with the hint
    one_error_line(run(testbed, "repos", AZURECR_CA_BUNDLE=""), 1, "--ca-bundle")
    # credentials half given
    one_error_line(run(testbed, "repos", AZURECR_PASSWORD=""), 2, "needs a password")
    one_error_line(run(testbed, "-u", "x", "--anonymous", "repos"), 2, "--anonymous")
    one_error_line(run(testbed, "push", "cli/x:1", str(tmp_path / "absent")), 1, "absent")
    # --debug adds the traceback
    debug = run(testbed, "--debug", "tags", missing)
    assert debug.returncode == 1 and "Traceback" in debug.stderr
    assert debug.error_lines[-1].startswith("azurecr: error: ")


def test_password_stdin_and_anonymous(testbed: TestBed, anonymous_pull: TestBed) -> None:
    repo = unique_repository("cli")
    push_image(testbed, repo, "v1")
    via_stdin = run(
        testbed,
        "--username",
        testbed.admin_username,
        "--password-stdin",
        "tags",
        repo,
        "--json",
        auth=False,
        input=testbed.admin_password + "\n",
    )
    assert [t["name"] for t in json_of(via_stdin)] == ["v1"]  # type: ignore[attr-defined]
    # --anonymous wins over credentials in the environment; pull access is enough to list
    anonymous = run(testbed, "--anonymous", "tags", repo, "--json")
    assert [t["name"] for t in json_of(anonymous)] == ["v1"]  # type: ignore[attr-defined]
    one_error_line(run(testbed, "--anonymous", "lock", f"{repo}:v1"), 3)


def test_default_azure_credential_in_process(
    testbed: TestBed, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a username, the CLI signs in with azure-identity's DefaultAzureCredential."""
    import azure.identity

    from azurecr.cli import main
    from tests.integration._clients import TestbedCredential

    repo = unique_repository("cli")
    push_image(testbed, repo, "v1")
    made: list[TestbedCredential] = []

    def fake_default_credential() -> TestbedCredential:
        made.append(TestbedCredential(testbed))
        return made[-1]

    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", fake_default_credential)
    for name in ("AZURECR_USERNAME", "AZURECR_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURECR_REGISTRY", testbed.endpoint)
    monkeypatch.setenv("AZURECR_CA_BUNDLE", testbed.ca_path)
    assert main(["tags", repo, "--json"]) == 0
    assert [t["name"] for t in json.loads(capsys.readouterr().out)] == ["v1"]
    assert len(made) == 1 and made[0].requested


def test_missing_rich_is_one_line_and_status_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from azurecr.cli import main

    monkeypatch.setitem(__import__("sys").modules, "rich", None)  # import rich -> ImportError
    assert main(["-r", "x.example", "repos"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "azurecr: error: the azurecr command needs rich: pip install 'azurecr[cli]'"
    assert main(["--version"]) == 0  # --help and --version do not need it


# ------------------------------------------------------------------------------ transfers
def _files(tmp_path: Path) -> list[Path]:
    src = tmp_path / "src"
    src.mkdir()
    files = {
        "readme.txt": b"hello from the azurecr CLI\n",
        "empty.dat": b"",
        "data.bin": os.urandom(1024 * 1024 + 17),
    }
    for name, data in files.items():
        (src / name).write_bytes(data)
    return [src / name for name in files]


def test_push_pull_byte_for_byte_and_copy(testbed: TestBed, tmp_path: Path) -> None:
    repo = unique_repository("cli")
    files = _files(tmp_path)
    pushed = run(
        testbed,
        "push",
        f"{repo}:1.0",
        *map(str, files),
        "--artifact-type",
        "application/vnd.example.cli+type",
        "--annotation",
        "org.opencontainers.image.description=from the CLI",
    )
    assert pushed.returncode == 0, pushed
    digest = pushed.stdout.strip()
    assert DIGEST.match(digest), pushed.stdout
    assert pushed.stderr.startswith(f"pushed {repo}:1.0@{digest}: 3 files")
    shown = json_of(run(testbed, "show", f"{repo}:1.0", "--json"))
    assert isinstance(shown, dict) and shown["manifest"]["digest"] == digest

    out = tmp_path / "out"
    pulled = run(testbed, "pull", f"{repo}:1.0", "-o", str(out))
    assert pulled.returncode == 0, pulled
    assert sorted(Path(p).name for p in pulled.stdout.split()) == sorted(f.name for f in files)
    for f in files:
        assert (out / f.name).read_bytes() == f.read_bytes(), f.name
    by_digest = json_of(
        run(testbed, "pull", f"{repo}@{digest}", "-o", str(tmp_path / "o2"), "--json")
    )
    assert isinstance(by_digest, dict) and by_digest["digest"] == digest
    assert {Path(f["path"]).name for f in by_digest["files"]} == {f.name for f in files}
    for f in files:
        assert (tmp_path / "o2" / f.name).read_bytes() == f.read_bytes()

    # copy within the registry (blobs mounted): same digest, source tag kept or a new one
    other = unique_repository("cli-copy")
    copied = run(testbed, "copy", f"{repo}:1.0", other)
    assert copied.returncode == 0, copied
    assert copied.stdout.strip() == digest and "mounted" in copied.stderr
    retagged = json_of(run(testbed, "copy", f"{repo}@{digest}", f"{other}:stable", "--json"))
    assert isinstance(retagged, dict) and retagged["digest"] == digest
    tags = json_of(run(testbed, "tags", other, "--json"))
    assert isinstance(tags, list)
    assert {t["name"]: t["digest"] for t in tags} == {"1.0": digest, "stable": digest}
    back = tmp_path / "back"
    assert run(testbed, "pull", f"{other}:stable", "-o", str(back), "-q").returncode == 0
    assert (back / "data.bin").read_bytes() == files[2].read_bytes()
    one_error_line(run(testbed, "copy", f"{repo}:1.0", f"{repo}:1.0"), 2, "same")
    one_error_line(run(testbed, "pull", f"{repo}:nope", "-o", str(out)), 1, f"{repo}:nope")


def test_push_referrer_and_list_referrers(testbed: TestBed, tmp_path: Path) -> None:
    repo = unique_repository("cli")
    subject = run(testbed, "push", f"{repo}:app", *map(str, _files(tmp_path)), "-q")
    assert subject.returncode == 0, subject
    sig = tmp_path / "sig.txt"
    sig.write_text("signed")
    referrer = run(
        testbed,
        "push",
        repo,
        str(sig),
        "--subject",
        "app",
        "--artifact-type",
        "application/vnd.example.signature",
        "-q",
    )
    assert referrer.returncode == 0, referrer
    listed = json_of(run(testbed, "referrers", f"{repo}:app", "--json"))
    assert isinstance(listed, list)
    assert [d["digest"] for d in listed] == [referrer.stdout.strip()]
    assert listed[0]["artifactType"] == "application/vnd.example.signature"
    table = run(testbed, "referrers", f"{repo}@{subject.stdout.strip()}").stdout
    assert referrer.stdout.strip() in table and "application/vnd.example.signature" in table
    none = json_of(run(testbed, "referrers", f"{repo}:app", "--artifact-type", "x/y", "--json"))
    assert none == []


def test_progress_bar_in_a_terminal_and_not_in_a_pipe(testbed: TestBed, tmp_path: Path) -> None:
    repo = unique_repository("cli")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(8 * 1024 * 1024))

    status, screen = run_in_pty(testbed, "push", f"{repo}:big", str(big))
    assert status == 0, screen
    assert "━" in screen and "100%" in screen, screen
    assert "8.0/8.0 MiB" in screen, screen
    assert "\x1b[" in screen  # drawn with terminal control sequences
    assert re.search(r"pushed \S+:big@sha256:[0-9a-f]{64}: 1 file, 8\.0 MiB", screen), screen

    status, screen = run_in_pty(testbed, "pull", f"{repo}:big", "-o", str(tmp_path / "out"))
    assert status == 0 and "━" in screen and "100%" in screen, screen
    assert (tmp_path / "out" / "big.bin").read_bytes() == big.read_bytes()

    # Not a terminal: no bar, only the summary line; --quiet: not even that.
    piped = run(testbed, "pull", f"{repo}:big", "-o", str(tmp_path / "p"))
    assert piped.returncode == 0 and "━" not in piped.stderr and "\x1b[" not in piped.stderr
    assert len(piped.error_lines) == 1 and piped.stderr.startswith(f"pulled {repo}:big@")
    quiet = run(testbed, "pull", f"{repo}:big", "-o", str(tmp_path / "q"), "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == ""
    status, screen = run_in_pty(testbed, "--json", "pull", f"{repo}:big", "-o", str(tmp_path / "j"))
    assert status == 0 and "━" not in screen and json.loads(screen)["files"]


def test_a_password_is_not_sent_to_a_registry_named_only_in_a_reference(testbed: TestBed) -> None:
    testbed.traffic(clear=True)
    host = testbed.endpoint.split("://", 1)[1]
    other = "localhost:" + host.rsplit(":", 1)[1]  # the same server under another name
    result = run(testbed, "show", f"{other}/some/repo:v1")
    assert result.returncode == 2
    assert len(result.error_lines) == 1 and "username and password are for" in result.stderr
    assert testbed.traffic(clear=True) == []
