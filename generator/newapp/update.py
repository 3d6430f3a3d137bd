"""`newapp update`: copier's 3-way merge with the template this newapp ships, run offline."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newapp.errors import (
    BadAnswer,
    Cancelled,
    NewappError,
    NotUpdatable,
    TemplateMissing,
    Terminated,
    TermSignal,
    UpdateConflict,
    one_line,
)

if TYPE_CHECKING:
    from packaging.version import Version

    from newapp.questions import QuestionSet

ANSWERS_FILE = ".copier-answers.yml"
# Tests, and people who keep the template elsewhere, point this at a git repository or bundle.
HISTORY_ENV = "NEWAPP_TEMPLATE_HISTORY"
# A template source copier reads over the network (what `copier copy URL` records).
_REMOTE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://|git@|gh:|gl:)")
# `git describe` output for a commit after a tag: v0.3.0-2-gabc1234.
_DESCRIBED = re.compile(r"^(?P<tag>.+)-(?P<count>\d+)-g(?P<sha>[0-9a-f]+)$")


@dataclass(frozen=True)
class UpdateOutcome:
    """What an update changed (or, for a dry run, would change) in the project."""

    project: Path
    old_version: str
    new_version: str
    # (action, path relative to the project); action is create, update, delete or conflict.
    changes: tuple[tuple[str, str], ...] = ()
    dry_run: bool = False
    notes: tuple[str, ...] = ()  # what the user must know beyond the files, such as a migration

    @property
    def conflicts(self) -> list[str]:
        return [path for action, path in self.changes if action == "conflict"]

    @property
    def up_to_date(self) -> bool:
        return not self.changes


@dataclass(frozen=True)
class _Source:
    """Where copier reads the template from, and at which ref."""

    url: str
    vcs_ref: str | None  # None: copier's own choice, the latest tag
    current: bool = False  # the project is already at the template's commit


def template_history() -> str:
    """The git history of this newapp's template: $NEWAPP_TEMPLATE_HISTORY, else the bundle in
    the wheel, else the git repository of this checkout."""
    override = os.environ.get(HISTORY_ENV)
    if override:
        return override
    bundle = Path(__file__).parent / "_template" / "history.bundle"
    if bundle.is_file():
        return str(bundle)
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / ".git").exists() and (checkout / "copier.yml").is_file():
        return str(checkout)
    raise TemplateMissing("newapp's template history is missing from this install; reinstall it")


def run(path: Path, items: Sequence[str], *, dry_run: bool) -> None:
    """The `newapp update` command: update, show what changed, exit 4 on conflicts."""
    from newapp import ui
    from newapp.answers import parse_data
    from newapp.questions import QuestionSet

    data = parse_data(items, QuestionSet().keys)
    with ui.working("Updating the project..."):
        outcome = update(path, data, dry_run=dry_run)
    try:
        show(outcome)
    except (KeyboardInterrupt, TermSignal) as error:
        if dry_run:
            raise
        # Too late to cancel: say so instead of the usual "nothing was written".
        late = Terminated if isinstance(error, TermSignal) else Cancelled
        raise late(f"interrupted, but the update of {outcome.project} is complete") from None


def show(outcome: UpdateOutcome) -> None:
    """Print the outcome; raise UpdateConflict (exit 4) when conflicts are (or would be) left."""
    from newapp import ui

    if outcome.up_to_date:
        ui.say(
            f"{outcome.project.name} is already up to date with newapp's template "
            f"{outcome.new_version}."
        )
        return
    ui.say(_heading(outcome))
    ui.show_files("", outcome.changes)
    for note in outcome.notes:
        ui.say(note)
    files = ", ".join(outcome.conflicts)
    if outcome.dry_run:
        ui.say("Nothing was written.")
        if outcome.conflicts:
            raise UpdateConflict(
                f"the update would leave conflicts in {files}; nothing was written"
            )
        return
    if outcome.conflicts:
        raise UpdateConflict(
            f"the template and your edits changed the same lines of {files}; resolve the "
            "<<<<<<< markers, then git add those files and commit"
        )
    ui.say("Review the changes with `git diff`, then commit them.")


def _heading(outcome: UpdateOutcome) -> str:
    name, old, new = outcome.project.name, outcome.old_version, outcome.new_version
    if old == new:  # only --data changed
        action, versions = "re-applying the answers to", f"at {new}"
        done = "Re-applied the answers to"
    else:
        action, versions, done = "updating", f"from {old} to {new}", "Updated"
    if outcome.dry_run:
        return f"Dry run: {action} {name} {versions} would change:"
    return f"{done} {name} {versions}:"


def update(
    project: Path, data: Mapping[str, Any] | None = None, *, dry_run: bool = False
) -> UpdateOutcome:
    """Bring `project` up to the template, changing `data` answers on the way.

    The merge runs in a throwaway clone of the project; only a finished merge is copied back, so
    a refusal or a failure leaves the project as it was.
    """
    project = project.resolve()
    answers = _read_answers(project)
    top = _git_top(project)
    _require_clean(project)
    typed = _checked_data(project, answers, data or {})
    old_version = _shown_version(str(answers["_commit"]))
    with tempfile.TemporaryDirectory(prefix="newapp-update-") as scratch:
        work = Path(scratch)
        source = _source(project, answers, work / "template")
        if source.current and not typed:  # same template, same answers: nothing can change
            return UpdateOutcome(project, old_version, old_version, (), dry_run)
        clone_top = _clone(top, work / "project")
        clone = clone_top / project.relative_to(top)
        _merge(clone, answers, source, typed)
        notes = _keep_migrations(clone, answers, typed, dry_run=dry_run)
        new_version = _shown_version(str(_read_answers(clone).get("_commit", "")))
        changes = _changes(clone)
        if changes and not dry_run:
            _copy_back(clone_top, top, [path for _, path in changes], project)
    shown = [(action, os.path.relpath(top / path, project)) for action, path in changes]
    return UpdateOutcome(project, old_version, new_version, tuple(shown), dry_run, notes)


# --- newapp check-update: is the project behind, and what would the update change? ----------

# The exit status of `newapp check-update` when an update is available (2 is bad usage here).
UPDATE_AVAILABLE = 5


@dataclass(frozen=True)
class UpdateCheck:
    """copier's answer to check-update, and the changes `newapp update` would make."""

    project: Path
    current_version: str
    latest_version: str
    update_available: bool
    changes: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape `newapp check-update --json` prints."""
        return {
            "update_available": self.update_available,
            "current_version": self.current_version,
            "latest_version": self.latest_version,
            "changes": [{"action": action, "path": path} for action, path in self.changes],
            "conflicts": [path for action, path in self.changes if action == "conflict"],
        }


def check(project: Path) -> UpdateCheck:
    """Whether the template has a newer version than the project's (copier's check-update, run
    on a scratch clone that names the template newapp updates from), and if so what the update
    would change (a dry run of it)."""
    project = project.resolve()
    answers = _read_answers(project)
    top = _git_top(project)
    _require_clean(project)
    with tempfile.TemporaryDirectory(prefix="newapp-check-") as scratch:
        work = Path(scratch)
        source = _source(project, answers, work / "template")
        clone = _clone(top, work / "project") / project.relative_to(top)
        with _source_swapped(clone, answers, source):
            found = _copier_check(clone)
    available = bool(found["update_available"])
    changes = update(project, dry_run=True).changes if available else ()
    current, latest = str(found["current_version"]), str(found["latest_version"])
    return UpdateCheck(project, current, latest, available, changes)


def _copier_check(clone: Path) -> dict[str, Any]:
    """`copier check-update --output-format json` on the clone (copier's public interface for
    it; its Python function is internal)."""
    import json
    import sys

    argv = [sys.executable, "-m", "copier", "check-update", "--output-format", "json", "."]
    result = subprocess.run(argv, cwd=clone, capture_output=True, text=True, check=False)
    try:
        found = json.loads(result.stdout)
    except json.JSONDecodeError:
        reason = result.stderr.strip().splitlines() or [f"exit {result.returncode}"]
        raise NewappError(f"copier could not check for an update: {reason[-1]}") from None
    return dict(found)


def show_check(outcome: UpdateCheck, *, as_json: bool) -> None:
    """Print the check: JSON for a bot, or words and the changes for a person."""
    from newapp import ui

    if as_json:
        import json

        ui.say(json.dumps(outcome.to_dict(), indent=2))
        return
    name = outcome.project.name
    if not outcome.update_available:
        ui.say(f"{name} is up to date with newapp's template {outcome.latest_version}.")
        return
    ui.say(
        f"{name} is at newapp's template {outcome.current_version}; "
        f"{outcome.latest_version} is available. `newapp update` would change:"
    )
    ui.show_files("", outcome.changes)


# --- Refusals: checked before anything is cloned or written ---------------------------------


def _read_answers(project: Path) -> dict[str, Any]:
    import yaml

    path = project / ANSWERS_FILE
    if not project.is_dir():
        raise NotUpdatable(f"{project} is not a folder; give the path of a project to update")
    root = next((p for p in project.parents if (p / ANSWERS_FILE).is_file()), None)
    if not path.is_file() and root is not None:
        raise NotUpdatable(
            f"{project} is a folder inside the newapp project {root}; update the whole "
            f"project: newapp update {_shell_path(root)}"
        )
    if not path.is_file():
        raise NotUpdatable(
            f"{project} is not a newapp project: it has no {ANSWERS_FILE} (written by newapp "
            "create or copier copy); give the path of a project made by newapp"
        )
    try:
        answers = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise NotUpdatable(f"cannot read {path}: {one_line(error)}; restore it from git") from None
    if not isinstance(answers, dict) or not answers.get("_commit"):
        raise NotUpdatable(
            f"{path} records no template version (_commit); restore it from git, or make the "
            "project again with newapp create --answers-file"
        )
    return answers


def _shell_path(path: Path) -> str:
    """`path` as the user would type it from here: relative when it is short that way."""
    import shlex

    relative = os.path.relpath(path)
    return shlex.quote(relative if len(relative) < len(str(path)) else str(path))


def _git_top(project: Path) -> Path:
    found = _git_probe(project, "rev-parse", "--show-toplevel")
    if found is None:
        raise NotUpdatable(
            f"{project} is not in a git repository; the update merges through git, so first "
            "run git init, git add -A and git commit in it"
        )
    if _git_probe(project, "rev-parse", "--verify", "--quiet", "HEAD") is None:
        raise NotUpdatable(f"{project} has no commit yet; run git add -A and git commit first")
    return Path(found).resolve()


def _require_clean(project: Path) -> None:
    # Untracked files count: the update could write over them, and git could not undo that.
    status = _git(project, "status", "--porcelain", "-z", "--untracked-files=all", "--", ".")
    dirty = [entry[3:] for entry in status.split("\0") if entry]
    if dirty:
        shown = ", ".join(dirty[:5]) + (" ..." if len(dirty) > 5 else "")
        raise NotUpdatable(
            f"{project} has uncommitted changes ({shown}); commit or stash them first, so the "
            "update can be reviewed and undone on its own"
        )


def _checked_data(
    project: Path, answers: Mapping[str, Any], data: Mapping[str, Any]
) -> dict[str, Any]:
    """Typed, validated --data values; a framework switch is refused here."""
    from newapp.answers import check_data_key
    from newapp.questions import QuestionSet, on_command_line

    questions = QuestionSet()
    last = {key: value for key, value in answers.items() if not str(key).startswith("_")}
    typed: dict[str, Any] = {}
    for key, raw in data.items():
        check_data_key(key, questions.keys)
        try:
            typed[key] = questions.accept(key, raw, {**last, **typed})
        except BadAnswer as error:
            raise on_command_line(error) from None
    if typed and "framework_chosen_by" in last:  # the recommendation may have moved
        chosen_by = questions.default("framework_chosen_by", {**last, **typed})
        typed["framework_chosen_by"] = chosen_by
    typed.update(_kept_as_they_were(questions, last, typed))
    old, new = last.get("framework"), typed.get("framework", last.get("framework"))
    if old != new:
        raise NotUpdatable(
            f"switching framework from {old} to {new} is not an update (the two templates share "
            f"no code to merge): make a new project with `newapp create NEW-FOLDER --answers-file "
            f"{project / ANSWERS_FILE} --framework {new}` and move your code over by hand"
        )
    return typed


# Questions newer than some projects whose default would change what such a project does to
# its callers: sign-in would answer 401 on every items route an API served openly until now.
# A project made before the question keeps it off until `--data auth=true` asks for it.
OFF_FOR_OLDER_PROJECTS = {"auth": False}


def _kept_as_they_were(
    questions: QuestionSet, last: Mapping[str, Any], typed: Mapping[str, Any]
) -> dict[str, Any]:
    """The answers a project made before their questions keeps at off (not the defaults)."""
    return {
        key: value
        for key, value in OFF_FOR_OLDER_PROJECTS.items()
        # Asked of the project as it was, and unanswered: it predates the question. A project
        # that gains a database now (made with none, so never asked) gets the default.
        if key not in last and key not in typed and questions.asked(key, last)
    }


# --- The merge, in the scratch clone -----------------------------------------------------------


def _clone(top: Path, dest: Path) -> Path:
    """A clone of the project's repository at its HEAD; --shared borrows the objects, so it is
    quick whatever the history's size."""
    _git(top.parent, "clone", "--quiet", "--shared", "--no-checkout", str(top), str(dest))
    head = _git(top, "rev-parse", "HEAD").strip()
    # No hooks: the user's post-checkout hook is for their work, not for this scratch copy.
    _git(dest, "-c", f"core.hooksPath={os.devnull}", "checkout", "--quiet", "--detach", head)
    return dest


def _source(project: Path, answers: Mapping[str, Any], work: Path) -> _Source:
    """copier's normal update for a project copied from a git URL; otherwise newapp's own
    template history (the project was rendered from a plain folder, such as a wheel)."""
    recorded = str(answers.get("_src_path") or "")
    if _REMOTE.match(recorded) or recorded.endswith(".git"):
        return _Source(recorded, None)
    local = Path(recorded).expanduser()
    local = local if local.is_absolute() else project / local
    if (local / ".git").exists() or (local.is_file() and local.suffix == ".bundle"):
        return _Source(str(local), None)
    return _packaged_source(project, str(answers["_commit"]), work)


def _packaged_source(project: Path, ref: str, work: Path) -> _Source:
    history = template_history()
    # A plain clone, so git reads the bundle (or repository) offline, once.
    _git(work.parent, "clone", "--quiet", history, str(work))
    head = _git(work, "describe", "--tags", "--always", "HEAD").strip()
    old, new = _version(ref), _version(head)
    if old is not None and new is not None and old > new:
        raise NotUpdatable(
            f"{project} was made by newapp {old}, newer than this newapp's template {new}; "
            "upgrade newapp (pip install -U newapp), then update"
        )
    commit = _git_probe(work, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if commit is None:
        raise NotUpdatable(
            f"{project} was made by newapp {_shown_version(ref)}, which this newapp's template "
            f"history ({history}) does not hold; make the project again with newapp create "
            "--answers-file, or update it with the newapp that made it"
        )
    current = commit == _git(work, "rev-parse", "HEAD").strip()
    return _Source(str(work), "HEAD", current=current)


def _merge(clone: Path, answers: Mapping[str, Any], source: _Source, data: dict[str, Any]) -> None:
    """Run copier's update in the clone, with `_src_path` swapped for `source` for the run."""
    with _source_swapped(clone, answers, source):
        _copier_update(clone, data, source.vcs_ref)
    if source.url != answers.get("_src_path"):
        _set_answers(clone / ANSWERS_FILE, {"_src_path": answers.get("_src_path")})


@contextmanager
def _source_swapped(clone: Path, answers: Mapping[str, Any], source: _Source) -> Iterator[None]:
    """The clone's answers name `source` as the template while the block runs copier."""
    if source.url == answers.get("_src_path"):
        yield
        return
    _set_answers(clone / ANSWERS_FILE, {"_src_path": source.url})
    # copier refuses a dirty project; the swap is ours, so hide it from git's status.
    _git(clone, "update-index", "--skip-worktree", "--", ANSWERS_FILE)
    try:
        yield
    finally:
        _git(clone, "update-index", "--no-skip-worktree", "--", ANSWERS_FILE)


def _copier_update(clone: Path, data: dict[str, Any], vcs_ref: str | None) -> None:
    # Imported here: copier costs ~300 ms, which `newapp --help` must not pay.
    import copier
    from copier.errors import CopierError
    from plumbum import ProcessExecutionError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # copier's DirtyLocalWarning and the like
            copier.run_update(
                clone,
                data=data,
                vcs_ref=vcs_ref,
                defaults=True,
                overwrite=True,
                conflict="inline",
                unsafe=False,
                quiet=True,
            )
    except CopierError as error:
        message = one_line(error)
        if "downgrading" in message.lower():
            raise NotUpdatable(f"{message.rstrip('.')}; upgrade newapp, then update") from None
        raise NewappError(f"copier could not update the project: {message}") from None
    except ValueError as error:  # copier's own validator or choice failure, or a lost version
        message = one_line(error)
        if "revision" in message.lower():
            raise NotUpdatable(
                f"{message.rstrip('.')}: the template history at hand lacks the project's "
                "version; run the update with a newapp release (pip install newapp)"
            ) from None
        raise BadAnswer(message) from None
    except ProcessExecutionError as error:
        lines = str(error.stderr).strip().splitlines() or [str(error.retcode)]
        raise NewappError(f"git failed while updating: {lines[-1]}") from None


def _changes(clone: Path) -> list[tuple[str, str]]:
    """(action, path relative to the repository's top) for every file the merge touched."""
    status = _git(
        clone, "status", "--porcelain", "-z", "--untracked-files=all", "--no-renames", "--", "."
    )
    changes = []
    for entry in filter(None, status.split("\0")):
        code, path = entry[:2], entry[3:]
        changes.append((_action(code), path))
    return sorted(changes, key=lambda change: change[1])


def _action(code: str) -> str:
    if "U" in code or code in ("AA", "DD"):
        return "conflict"
    if code == "??":
        return "create"
    return "delete" if "D" in code else "update"


# --- Migrations: a step a database has run never disappears ------------------------------------


def _keep_migrations(
    clone: Path, last: Mapping[str, Any], typed: Mapping[str, Any], *, dry_run: bool
) -> tuple[str, ...]:
    """Put back the migration files the merge deleted, and where sign-in leaves (or comes
    back), add the step that drops (or makes again) its tables: a database that ran the users
    migration must still find it, and `migrate` must take it to the new code's schema."""
    from newapp import migrations

    package = last.get("package_name")
    if typed.get("database", last.get("database")) in (None, "none") or not package:
        return ()  # no database (any more): no migrations, or they go with it
    folder = migrations.versions(clone, str(package))
    deleted = _git(clone, "ls-files", "--deleted", "-z", "--", str(folder)).split("\0")
    if any(deleted):
        _git(clone, "checkout", "HEAD", "--", *filter(None, deleted))
    before, after = last.get("auth") is True, typed.get("auth", last.get("auth")) is True
    users = next(folder.glob(migrations.USERS_STEP), None)
    if before == after or users is None:
        return ()
    relative = users.relative_to(clone).as_posix()
    if after and _git_probe(clone, "cat-file", "-e", f"HEAD:./{relative}") is None:
        return ()  # sign-in's first arrival: the template's own users migration does it
    step = migrations.write_step(folder, users, drop=before)
    will = "would run" if dry_run else "runs"
    if before:
        return (
            f"Sign-in is out: the next `python -m {package} migrate` {will} {step.name}, which "
            "drops the users table and the items' owners (the items stay, open to anyone who "
            f"reaches the server). {users.name} stays: your databases have run it.",
        )
    return (
        f"Sign-in is back: the next `python -m {package} migrate` {will} {step.name}, which "
        "makes the users table again, empty; create the first admin with create-user.",
    )


# --- Copying the finished merge back -----------------------------------------------------------


def _copy_back(clone_top: Path, top: Path, paths: list[str], project: Path) -> None:
    """Copy each changed file into the project, with Ctrl-C held back, then record conflicts in
    git's index as a merge would, so `git status` shows them as unmerged."""
    from newapp.render import _signals_held

    with _signals_held():
        try:
            for path in paths:
                _copy_one(clone_top / path, top / path, project)
        except OSError as error:
            raise NewappError(f"cannot write {error.filename or project}: {error}") from None
        _mark_conflicts(clone_top, top)


def _copy_one(source: Path, target: Path, project: Path) -> None:
    if target.is_symlink() or (target.exists() and not source.exists()):
        target.unlink()
    if source.is_symlink():
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.readlink(source), target)
    elif source.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    else:  # deleted from the template: drop the folders it leaves empty
        for parent in target.parents:
            if parent == project or not parent.is_relative_to(project) or any(parent.iterdir()):
                break
            parent.rmdir()


def _mark_conflicts(clone_top: Path, top: Path) -> None:
    entries = [e for e in _git(clone_top, "ls-files", "--stage", "-z").split("\0") if e]
    unmerged = [e for e in entries if e.split("\t", 1)[0].split()[2] != "0"]
    lines = []
    for path in sorted({e.split("\t", 1)[1] for e in unmerged}):
        lines.append(f"0 {'0' * 40}\t{path}")  # drops the merged entry, as `git merge` does
    for entry in unmerged:
        meta, path = entry.split("\t", 1)
        mode, sha, stage = meta.split()
        blob = _git_bytes(clone_top, "cat-file", "blob", sha)
        _git_bytes(top, "hash-object", "-w", "--stdin", stdin=blob)
        lines.append(f"{mode} {sha} {stage}\t{path}")
    if lines:
        _git_bytes(top, "update-index", "--index-info", stdin="\n".join(lines).encode())


# --- Small helpers ------------------------------------------------------------------------------


def _set_answers(path: Path, values: Mapping[str, Any]) -> None:
    """Set (or, for None, remove) top-level keys of copier's answers file, leaving the rest."""
    import yaml

    def entry(key: str) -> list[str]:
        value = values[key]
        if value is None:
            return []
        return [yaml.safe_dump({key: value}, allow_unicode=True, width=10**6)]

    lines: list[str] = []
    missing = set(values)
    replacing = False
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if replacing and line[:1] in (" ", "\t"):
            continue  # the continuation of a long value being replaced
        key = line.split(":", 1)[0]
        replacing = key in values
        lines += entry(key) if replacing else [line]
        missing.discard(key)
    # Keys the file lacked go after copier's header comment, where copier puts its own.
    at = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    lines[at:at] = [text for key in sorted(missing) for text in entry(key)]
    path.write_text("".join(lines), encoding="utf-8")


def _version(ref: str) -> Version | None:
    """The PEP 440 version of a tag (v0.3.0) or a `git describe` (v0.3.0-2-gabc), as copier
    reads it; None for anything else."""
    from packaging.version import InvalidVersion, Version

    described = _DESCRIBED.match(ref)
    text = f"{described['tag']}.post{described['count']}+g{described['sha']}" if described else ref
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _shown_version(ref: str) -> str:
    version = _version(ref)
    return str(version) if version is not None else ref


def _git_bytes(cwd: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        result = subprocess.run(
            ["git", *args], cwd=cwd, input=stdin, capture_output=True, check=False
        )
    except FileNotFoundError:
        raise NotUpdatable("git is not installed; newapp update needs it") from None
    if result.returncode != 0:
        reason = os.fsdecode(result.stderr).strip().splitlines() or [f"exit {result.returncode}"]
        raise NewappError(f"git {args[0]} failed: {reason[-1]}")
    return result.stdout


def _git(cwd: Path, *args: str) -> str:
    return os.fsdecode(_git_bytes(cwd, *args))


def _git_probe(cwd: Path, *args: str) -> str | None:
    """git's output, or None where git says no (not a repository, no such ref)."""
    try:
        return _git(cwd, *args).strip()
    except NotUpdatable:
        raise
    except NewappError:
        return None
