"""Render a project with copier into a staging folder, then move it into place all at once."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newapp.errors import (
    BadAnswer,
    Conflict,
    DestinationError,
    InsideCheckout,
    NewappError,
    one_line,
)

_OS_REASONS = {
    errno.ENOSPC: "no space left on the device; free some space",
    errno.EACCES: "permission denied; choose a folder you can write to",
    errno.EPERM: "permission denied; choose a folder you can write to",
    errno.EROFS: "read-only file system; choose a writable folder",
    errno.EDQUOT: "disk quota exceeded; free some space",
    errno.ENAMETOOLONG: "the name is too long for the file system; choose a shorter one",
    errno.ENOTDIR: "a file stands where a folder is needed; choose another destination",
    errno.ELOOP: "too many symbolic links; choose another destination",
}


@dataclass(frozen=True)
class Outcome:
    """What a render wrote (or, for a dry run, would write)."""

    dest: Path
    created: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)


def render(
    root: Path,
    answers: Mapping[str, Any],
    dest: Path,
    *,
    force: bool = False,
    dry_run: bool = False,
) -> Outcome:
    """Render the template at `root` with complete `answers` into `dest`.

    Nothing in `dest` changes unless the whole render succeeded and no file the template writes
    is already there (or `force` says to replace just those files).
    """
    with prepared(root, answers, dest, force=force, dry_run=dry_run) as pending:
        return pending.commit()


@dataclass(frozen=True)
class Pending:
    """A complete render waiting in its staging folder, checked against the destination."""

    project: Path
    dest: Path
    files: list[str]
    dry_run: bool
    force: bool

    def commit(self) -> Outcome:
        """Move the project into place (not for a dry run) and say what was written."""
        # Checked again: files may have appeared while the caller showed the recommendation.
        conflicts = [f for f in self.files if _occupied(self.dest, f)]
        created = [f for f in self.files if f not in conflicts]
        if not self.dry_run:
            if conflicts and not self.force:
                raise _conflict(self.dest, conflicts)
            _commit(self.project, self.dest, self.files)
        return Outcome(self.dest, created, conflicts)


@contextmanager
def prepared(
    root: Path,
    answers: Mapping[str, Any],
    dest: Path,
    *,
    force: bool = False,
    dry_run: bool = False,
) -> Iterator[Pending]:
    """Render into a staging folder and refuse conflicts, all before the caller shows anything;
    the caller then commits. Leaving the block without committing writes nothing."""
    dest = dest.absolute()
    _check_destination(dest)
    # Imported before the staging folder exists: a signal that lands inside an import (or the
    # pydantic schemas copier builds on import) is "ignored" by Python with a traceback, where
    # everywhere else it stops the render cleanly.
    import copier  # noqa: F401

    with _staging(dest, dry_run) as staging:
        project = staging / "project"
        _copier(root, answers, project)
        _record_version(project / ".copier-answers.yml")
        files = _files(project)
        _refuse_blocked(dest, files)
        conflicts = [f for f in files if _occupied(dest, f)]
        if conflicts and not (force or dry_run):
            raise _conflict(dest, conflicts)
        yield Pending(project, dest, files, dry_run, force)


def precheck(root: Path, dest: Path, *, conflicts: bool = True, fix: str = "") -> None:
    """Refuse a destination inside newapp's own checkout, or (with `conflicts`) one that
    already holds a project, before a question is asked or the recommendation shown. It looks
    only for the files every project writes, so it costs no render (`prepared` does the full
    check). `fix` replaces the advice the conflict error ends with."""
    dest = dest.absolute()
    _check_destination(dest)
    if conflicts and dest.is_dir():
        occupied = [f for f in always_written(root) if _occupied(dest, f)]
        if occupied:
            raise _conflict(dest, occupied, fix)


def always_written(root: Path) -> list[str]:
    """The files every project has, whatever the answers: the top-level files both templates
    write under a plain name (a name with Jinja in it may depend on the answers)."""
    names = [
        {
            path.name.removesuffix(".jinja")
            for path in (root / f"template_{framework}").iterdir()
            if path.is_file() and "{" not in path.name
        }
        for framework in ("flask", "fastapi")
    ]
    return sorted(set.intersection(*names))


def _conflict(dest: Path, conflicts: list[str], fix: str = "") -> Conflict:
    shown = ", ".join(conflicts[:8]) + (" ..." if len(conflicts) > 8 else "")
    fix = fix or "choose another destination, or pass --force to overwrite just those files"
    return Conflict(f"{dest} already holds files the template would write ({shown}); {fix}")


def _record_version(answers_file: Path) -> None:
    """Record newapp's release as the template version (`_commit`), which `newapp update`
    reads; copier writes none when it renders from a plain folder such as an installed wheel."""
    from newapp import __version__

    if not answers_file.is_file():
        return
    lines = [
        line
        for line in answers_file.read_text(encoding="utf-8").splitlines(keepends=True)
        if not line.startswith("_commit:")
    ]
    # copier writes its keys sorted, so _commit goes just before the first key after it.
    at = next(
        (
            i
            for i, line in enumerate(lines)
            if line[:1] not in ("#", "") and line.split(":", 1)[0] > "_commit"
        ),
        len(lines),
    )
    lines.insert(at, f"_commit: v{__version__}\n")
    answers_file.write_text("".join(lines), encoding="utf-8")


def _files(project: Path) -> list[str]:
    return sorted(
        str(path.relative_to(project))
        for path in project.rglob("*")
        if path.is_file() or path.is_symlink()
    )


def _check_destination(dest: Path) -> None:
    """Refuse a destination that cannot become a folder, before anything is rendered (also for
    --dry-run, which must not promise what the real run would refuse)."""
    try:
        if dest.is_symlink() and not dest.exists():
            raise DestinationError(f"{dest} is a broken symbolic link; choose another destination")
        if dest.exists() and not dest.is_dir():
            raise DestinationError(f"{dest} exists and is not a folder; choose another destination")
        blocker = next((p for p in dest.parents if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            raise DestinationError(f"{blocker} is a file, not a folder; choose another destination")
        _refuse_own_checkout(dest)
    except OSError as error:
        raise _os_error(error, dest) from None


def _refuse_own_checkout(dest: Path) -> None:
    """Refuse to write into a source checkout of newapp (run from the root of a fresh clone,
    `newapp create` would put the project among newapp's own files), except where its git
    ignores the path, as the benchmarks' work folder."""
    dest = dest.resolve()  # `../outside` from a checkout is outside it
    top = next((p for p in (dest, *dest.parents) if _is_newapp_source(p)), None)
    if top is None or _git_ignores(top, dest):
        return
    raise InsideCheckout(
        f"{dest} is inside newapp's own source checkout {top}; create the project "
        f"elsewhere, e.g. newapp create ~/{dest.name}"
    )


def _is_newapp_source(folder: Path) -> bool:
    return (folder / "copier.yml").is_file() and (folder / "generator/newapp").is_dir()


def _git_ignores(top: Path, path: Path) -> bool:
    import subprocess

    try:
        result = subprocess.run(
            ["git", "-C", str(top), "check-ignore", "--quiet", "--", str(path)],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False  # no git to ask: refuse, the safe side
    return result.returncode == 0


def _refuse_blocked(dest: Path, files: list[str]) -> None:
    """Refuse when a file stands where the template needs a folder, or a folder where it needs
    a file: --force replaces files with files, so the move would stop half-way."""
    for relative in files:
        target = dest / relative
        blocker = next(
            (p for p in reversed(target.parents) if p.is_relative_to(dest) and p.is_file()),
            target if target.is_dir() and not target.is_symlink() else None,
        )
        if blocker is not None:
            kind = (
                "a folder where the template writes a file"
                if blocker == target
                else ("a file where the template needs a folder")
            )
            raise Conflict(
                f"{blocker} is {kind} ({relative}); --force cannot replace it: move it away "
                "or choose another destination"
            )


def _occupied(dest: Path, relative: str) -> bool:
    """Whether writing `relative` would replace a file (or link) under `dest`."""
    target = dest / relative
    return target.exists() or target.is_symlink()


@contextmanager
def _staging(dest: Path, dry_run: bool) -> Iterator[Path]:
    """A temporary folder beside the destination (same file system, so moves are renames);
    always removed, whatever happens."""
    base = None if dry_run else _nearest_existing(dest.parent)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.newapp-", dir=base))
    except OSError as error:
        raise _os_error(error, base or Path(tempfile.gettempdir())) from None
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _copier(root: Path, answers: Mapping[str, Any], project: Path) -> None:
    # Imported here: copier costs ~300 ms, which `newapp --help` must not pay.
    import copier
    from copier.errors import CopierError

    # In a git checkout copier would otherwise render the latest tag, not the files in front of us.
    vcs_ref = "HEAD" if (root / ".git").exists() else None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # copier's DirtyLocalWarning in a dev checkout
            copier.run_copy(
                str(root),
                project,
                data=dict(answers),
                defaults=True,
                quiet=True,
                unsafe=False,
                vcs_ref=vcs_ref,
                cleanup_on_error=False,
            )
    except CopierError as error:
        raise NewappError(f"copier failed: {one_line(error)}") from None
    except ValueError as error:  # copier's own validator or choice failure
        raise BadAnswer(one_line(error)) from None
    except OSError as error:
        raise _os_error(error, project) from None


def _commit(project: Path, dest: Path, files: list[str]) -> None:
    """Move the rendered files into place with Ctrl-C and SIGTERM held back, so a signal can
    never leave half a project behind."""
    with _signals_held():
        try:
            if not dest.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.rename(project, dest)
                return
            for relative in files:
                target = dest / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(project / relative, target)
        except OSError as error:
            raise _os_error(error, dest) from None


@contextmanager
def _signals_held() -> Iterator[None]:
    held = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        # The project is in place: a Ctrl-C that came during the move is too late to cancel it.
        pending = signal.sigpending() & held
        saved = {sig: signal.signal(sig, signal.SIG_IGN) for sig in pending}
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _os_error(error: OSError, where: Path) -> DestinationError:
    reason = _OS_REASONS.get(error.errno or 0, error.strerror or str(error))
    return DestinationError(f"cannot write {error.filename or where}: {reason}")
