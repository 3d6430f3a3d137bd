"""Hatch build hook: pack the template's git history into the wheel, so `newapp update` is offline.

The bundle holds every release tag `v*` and, as HEAD, a commit with exactly the template files
this build ships; when the repository has no tag for this version yet, HEAD gets it. Projects
record `_commit: v<version>`, so the next newapp finds their template version in its own bundle.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

TEMPLATE_PARTS = ("copier.yml", "template_flask", "template_fastapi", "template_shared")
BUNDLE = "history.bundle"
IN_WHEEL = f"newapp/_template/{BUNDLE}"


class TemplateHistoryHook(BuildHookInterface):  # type: ignore[type-arg]
    """Adds history.bundle to the wheel (newapp/_template/) and to the sdist (its root)."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return  # an editable install reads the history from this checkout's .git
        root = Path(self.root)
        if (root / ".git").exists():
            self._scratch = Path(tempfile.mkdtemp(prefix="newapp-history-"))
            bundle = build_bundle(root, self.metadata.version, self._scratch)
        elif (root / BUNDLE).is_file():  # a wheel built from the sdist, which carries it
            bundle = root / BUNDLE
        else:
            raise RuntimeError(
                f"newapp's build needs its git history: build from a git clone, or from the "
                f"sdist (which carries {BUNDLE}); `newapp update` cannot work without it"
            )
        target = IN_WHEEL if self.target_name == "wheel" else BUNDLE
        build_data["force_include"][str(bundle)] = target

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        scratch = getattr(self, "_scratch", None)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def build_bundle(root: Path, version: str, scratch: Path) -> Path:
    """Write the bundle from a scratch repository that borrows root's objects: the build adds
    no object, ref or index entry to the repository it is built from."""
    repo = scratch / "history.git"
    git(scratch, "init", "--quiet", "--bare", str(repo))
    objects = Path(git(root, "rev-parse", "--path-format=absolute", "--git-common-dir")) / "objects"
    (repo / "objects" / "info" / "alternates").write_text(f"{objects}\n")
    tags = git(root, "for-each-ref", "--format=%(refname) %(objectname)", "refs/tags/v*")
    for line in tags.splitlines():
        ref, sha = line.split()
        git(repo, "update-ref", ref, sha)
    head = shipped_commit(root, repo, scratch)
    if f"refs/tags/v{version} " not in f"{tags}\n":
        git(repo, "update-ref", f"refs/tags/v{version}", head)
    git(repo, "update-ref", "refs/heads/main", head)
    git(repo, "symbolic-ref", "HEAD", "refs/heads/main")
    bundle = scratch / BUNDLE
    git(repo, "bundle", "create", "--quiet", str(bundle), "--all")
    return bundle


def shipped_commit(root: Path, repo: Path, scratch: Path) -> str:
    """HEAD, or, when the template files differ from HEAD's (a build of uncommitted edits), a
    child of HEAD that holds them as they are on disk, which is what the wheel ships."""
    head = git(root, "rev-parse", "HEAD")
    if not git(root, "status", "--porcelain", "--untracked-files=all", "--", *TEMPLATE_PARTS):
        return head
    # A scratch index and the scratch repository: root's own index and objects stay untouched.
    env = {"GIT_INDEX_FILE": str(scratch / "index")}
    tree = ["--git-dir", str(repo), "--work-tree", str(root)]
    git(root, *tree, "read-tree", head, env=env)
    git(root, *tree, "add", "--all", "--", *TEMPLATE_PARTS, env=env)
    snapshot = git(root, *tree, "write-tree", env=env)
    # The identity and date come from HEAD, so the same files give the same commit every build.
    when = git(root, "log", "-1", "--format=%cI", "HEAD")
    who = {"NAME": "newapp build", "EMAIL": "build@newapp.invalid", "DATE": when}
    env = {
        f"GIT_{role}_{key}": value for role in ("AUTHOR", "COMMITTER") for key, value in who.items()
    }
    return git(repo, "commit-tree", snapshot, "-p", head, "-m", "Template as built", env=env)


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise RuntimeError("newapp's build needs git to pack its template history") from None
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip()
