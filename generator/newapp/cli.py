"""The command line: parse flags, then hand off to answers -> recommend -> render (Typer).

Heavy modules (copier, questionary, rich) are imported inside the commands that use them, so
`newapp --help` and `newapp --version` start fast.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperCommand, TyperGroup

from newapp import __version__
from newapp.errors import (
    Cancelled,
    NewappError,
    NoTerminal,
    OutputError,
    Terminated,
    TermSignal,
    unexpected,
)
from newapp.questions import FLAG_KEYS, QuestionSet

# Click's usage-error base class, wherever this Typer keeps its copy of Click.
_CLICK_ERROR: Any = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


# Click's context and help formatter, wherever this Typer keeps its copy of Click.
_CONTEXT: Any = TyperGroup.context_class
_HELP_FORMATTER: Any = _CONTEXT.formatter_class

# A hyphen inside a word (".copier-answers.yml", "--no-auto-docs"), while --help is wrapped:
# the wrapper breaks lines after any hyphen, and a name cut in two cannot be copied.
_WORD_HYPHEN = re.compile(r"(?<=\w)-(?=\w)")
_HELD_HYPHEN = "\u2011"  # a non-breaking hyphen, turned back into "-" as it is written


class _Formatter(_HELP_FORMATTER):  # type: ignore[misc]
    """Click's help, wrapped between words only."""

    def write_text(self, text: str) -> None:
        super().write_text(_WORD_HYPHEN.sub(_HELD_HYPHEN, text))

    def write_dl(self, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
        held = [(term, _WORD_HYPHEN.sub(_HELD_HYPHEN, text)) for term, text in rows]
        super().write_dl(held, col_max, col_spacing)

    def write(self, string: str) -> None:
        super().write(string.replace(_HELD_HYPHEN, "-"))


class _Context(_CONTEXT):  # type: ignore[misc]
    formatter_class = _Formatter


class _Command(TyperCommand):
    context_class = _Context


class _Group(TyperGroup):
    """Runs a command and turns every failure into one line on stderr and its exit code."""

    context_class = _Context

    def main(  # type: ignore[override]
        self, args: list[str] | None = None, prog_name: str | None = None, **extra: Any
    ) -> NoReturn:
        argv = sys.argv[1:] if args is None else list(args)
        debug = os.environ.get("NEWAPP_DEBUG") == "1" or "--debug" in argv
        extra["standalone_mode"] = False  # we do Click's error handling ourselves, below
        try:
            result = super().main(argv, prog_name, **extra)
            _flush_output()
        except OutputError as error:
            _drop_output()
            error.show()
            sys.exit(error.exit_code)
        except (NewappError, _CLICK_ERROR) as error:  # ours, and Click's plain usage errors
            error.show()
            sys.exit(error.exit_code)
        except (typer.Abort, KeyboardInterrupt):
            result = Cancelled.exit_code
        except TermSignal:
            Terminated("terminated (SIGTERM), nothing was written").show()
            sys.exit(Terminated.exit_code)
        except Exception as error:
            raise _unexpected(error, debug) from None
        if result == Cancelled.exit_code:  # Typer turns Ctrl-C into exit code 130
            Cancelled("cancelled, nothing was written").show()
        sys.exit(result if isinstance(result, int) else 0)


def _unexpected(error: Exception, debug: bool) -> NoReturn:
    if debug:
        raise error
    unexpected(error).show()
    sys.exit(1)


def _flush_output() -> None:
    """Flush stdout before exiting, so that a full disk or a closed pipe is reported here,
    once, rather than by Python's shutdown as an ignored exception."""
    try:
        sys.stdout.flush()
    except OSError as error:
        raise OutputError(f"cannot write the output: {error.strerror or error}") from None


def _drop_output() -> None:
    """Point stdout at /dev/null, so that Python's flush at exit has nowhere to fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass  # no file descriptor (a test's captured output): nothing to flush at exit


app = typer.Typer(
    cls=_Group,
    name="newapp",
    help="Answer a few when-to-use questions, get Flask or FastAPI with its reasons, "
    "and a ready-to-run project.",
    rich_markup_mode=None,  # rich is ~190 ms of imports; plain Click help is enough
    pretty_exceptions_enable=False,
    add_completion=False,
    no_args_is_help=True,
)

# The six when-to-use flags, shared by `create` and `recommend`.
AppKind = Annotated[
    str | None,
    typer.Option(
        "--app-kind",
        metavar="api|web",
        help="Use case: api (JSON for programs) or web (HTML pages for people).",
    ),
]
HighConcurrency = Annotated[
    bool | None,
    typer.Option(help="Performance: many slow concurrent I/O calls, streaming, websockets."),
]
AsyncOk = Annotated[bool | None, typer.Option(help="Learning curve: team is at ease with async.")]
AutoDocs = Annotated[
    bool | None, typer.Option(help="API documentation: interactive docs generated from code.")
]
TypeValidation = Annotated[
    bool | None, typer.Option(help="Type checking: validate requests from type hints.")
]
NeedsExtensions = Annotated[
    bool | None, typer.Option(help="Ecosystem: relies on Flask's mature extensions.")
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        metavar="sqlite|postgresql|none",
        help="The database: sqlite (the default), postgresql or none.",
    ),
]
AuthOption = Annotated[
    bool | None,
    typer.Option(
        "--auth/--no-auth",
        help="Sign-in: users, passwords and tokens (and sign-in pages for web pages) guard the "
        "data (default: yes with a database).",
    ),
]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Never prompt: take defaults.")]


def _version(value: bool) -> None:
    if value:
        from newapp import ui

        ui.say(f"newapp {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of unexpected errors.")
    ] = False,
) -> None:
    """Answer a few when-to-use questions, get Flask or FastAPI with its reasons, and a project."""


def _factor_flags(params: dict[str, Any]) -> dict[str, Any]:
    """The when-to-use flags a command was given (Typer passes None for the ones left out)."""
    return {key: params[key] for key in FLAG_KEYS if params.get(key) is not None}


@app.command(cls=_Command, short_help="Ask, recommend, and render a project.")
def create(
    dest: Annotated[
        Path | None,
        typer.Argument(metavar="DEST", help="Where to create it (default ./<project_name>)."),
    ] = None,
    framework: Annotated[
        str | None,
        typer.Option(metavar="flask|fastapi", help="The framework (default: the recommendation)."),
    ] = None,
    app_kind: AppKind = None,
    high_concurrency: HighConcurrency = None,
    async_ok: AsyncOk = None,
    auto_docs: AutoDocs = None,
    type_validation: TypeValidation = None,
    needs_extensions: NeedsExtensions = None,
    database: DatabaseOption = None,
    auth: AuthOption = None,
    name: Annotated[
        str | None, typer.Option(metavar="NAME", help="Project name (default: DEST's name).")
    ] = None,
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data", "-d", metavar="KEY=VALUE", help="Answer any question; repeat for more."
        ),
    ] = None,
    answers_file: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE", help="YAML answers, e.g. an old project's .copier-answers.yml."
        ),
    ] = None,
    yes: Yes = False,
    dry_run: Annotated[
        bool, typer.Option(help="List what would be written; write nothing.")
    ] = False,
    force: Annotated[
        bool, typer.Option(help="Overwrite the files the template writes (never others).")
    ] = False,
) -> None:
    """Ask, recommend with reasons, and render a ready-to-run Flask or FastAPI project."""
    from newapp.answers import collect, git_identity, load_answers_file, parse_data, unanswered

    questions = QuestionSet()
    given: dict[str, Any] = {}
    if answers_file is not None:
        given.update(load_answers_file(answers_file, questions.keys))
    given.update(parse_data(data or (), questions.keys))
    if dest is not None and "project_name" not in given:
        given["project_name"] = dest.absolute().name
    if name is not None:
        given["project_name"] = name
    if framework is not None:
        given["framework"] = framework
    if database is not None:
        given["database"] = database
    if auth is not None:
        given["auth"] = auth
    given.update(_factor_flags(locals()))
    _precheck(questions, dest, given, force=force or dry_run)
    interactive = not yes and bool(unanswered(questions, given))
    if interactive and not _terminal():
        missing = ", ".join(unanswered(questions, given))
        raise NoTerminal(
            f"no terminal to ask {missing}; pass --yes for the defaults, or answer them "
            "with flags, --data KEY=VALUE or --answers-file"
        )
    asker = _terminal_asker() if interactive else None
    if interactive:
        _say_plan(unanswered(questions, given))
    name_check = _name_check(questions.root, force or dry_run)
    checks = {} if dest is not None else {"project_name": name_check}
    answers = collect(
        questions, given, asker=asker, defaults=git_identity(given), prompt_checks=checks
    )
    target = dest if dest is not None else Path(answers["project_name"])
    # The interactive flow shows the recommendation just before asking for the framework.
    shown = interactive and "framework" not in given
    _render(questions.root, answers, target, force=force, dry_run=dry_run, shown=shown)


def _say_plan(keys: list[str]) -> None:
    from newapp import ui

    factors = sum(key in FLAG_KEYS for key in keys)
    framework = "framework" in keys
    ui.tell(ui.plan(factors, framework, len(keys) - factors - framework))


def _precheck(
    questions: QuestionSet, dest: Path | None, given: dict[str, Any], *, force: bool
) -> None:
    """Say before asking anything that the destination is refused: inside newapp's own
    checkout, or (unless --force or --dry-run) already holding a project."""
    from newapp.render import precheck

    if dest is None and "project_name" in given:
        dest = Path(str(given["project_name"]))
    if dest is None:  # a folder of the current one, named when asked: judge the default name
        precheck(
            questions.root, Path(str(questions.by_key["project_name"].default)), conflicts=False
        )
    else:
        precheck(questions.root, dest, conflicts=not force)


def _name_check(root: Path, force: bool) -> Callable[[Any], str | None]:
    """At the project-name prompt (no DEST given, so the name is the folder): refuse a name
    whose folder holds a project already, while another name can still be typed."""
    from newapp.render import precheck

    def check(name: Any) -> str | None:
        try:
            precheck(root, Path(str(name)), conflicts=not force, fix="type another name")
        except NewappError as error:
            return error.message
        return None

    return check


def _terminal() -> bool:
    """Whether questions can be asked: stdin is a terminal (and not closed)."""
    return sys.stdin is not None and sys.stdin.isatty()


def _terminal_asker() -> Any:
    from newapp.prompts import TerminalAsker

    return TerminalAsker()


def _render(
    root: Path, answers: dict[str, Any], target: Path, *, force: bool, dry_run: bool, shown: bool
) -> None:
    from newapp import ui
    from newapp.recommend import recommend
    from newapp.render import prepared

    rec = recommend(answers)
    # Rendered (and checked for conflicts) before anything is shown, so that an error stands
    # alone; moved into place only after, so that a Ctrl-C meanwhile writes nothing.
    with contextlib.ExitStack() as stack:
        with ui.working("Rendering the project..."):
            pending = stack.enter_context(
                prepared(root, answers, target, force=force, dry_run=dry_run)
            )
        if not shown:  # the interactive flow showed the panel before asking for the framework
            ui.show_recommendation(rec)
        if answers["framework"] != rec.framework:
            chosen = ui.NAMES[answers["framework"]]
            ui.tell(f"Using {chosen}, as you chose over the recommendation.")
        outcome = pending.commit()
    try:
        _report(outcome, answers, target, dry_run=dry_run)
    except (KeyboardInterrupt, TermSignal) as error:
        if dry_run:
            raise
        # Too late to cancel: say so instead of the usual "nothing was written".
        late = Terminated if isinstance(error, TermSignal) else Cancelled
        raise late(f"interrupted, but the project in {outcome.dest} is complete") from None


def _report(outcome: Any, answers: dict[str, Any], target: Path, *, dry_run: bool) -> None:
    from newapp import ui
    from newapp.stack import open_to_anyone

    rows = [("create", f) for f in outcome.created] + [("overwrite", f) for f in outcome.replaced]
    if dry_run:
        ui.show_files(f"Dry run: would write into {outcome.dest}", rows)
        ui.say("Nothing was written.")
        return
    if outcome.replaced:
        ui.show_files("Replaced (--force)", [r for r in rows if r[0] == "overwrite"])
    ui.say(f"Created {outcome.dest} ({len(rows)} files).")
    label = os.path.relpath(outcome.dest) if not str(target).startswith("/") else str(outcome.dest)
    note = ui.python_note(answers)
    if note is not None:
        ui.tell(note)
    ui.show_list("Next steps", ui.next_steps(label, answers), commands=True)
    unprotected = open_to_anyone(answers)
    if unprotected is not None:  # last, where it is read before the server goes online
        ui.tell(f"No sign-in: {unprotected}.")


@app.command("recommend", cls=_Command, short_help="Only the recommendation and its reasons.")
def recommend_command(
    app_kind: AppKind = None,
    high_concurrency: HighConcurrency = None,
    async_ok: AsyncOk = None,
    auto_docs: AutoDocs = None,
    type_validation: TypeValidation = None,
    needs_extensions: NeedsExtensions = None,
    framework: Annotated[
        str | None,
        typer.Option(
            metavar="flask|fastapi",
            help="List what a project in this framework would contain, instead of in the "
            "recommended one.",
        ),
    ] = None,
    database: DatabaseOption = None,
    auth: AuthOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts and CI.")] = False,
    yes: Yes = False,
) -> None:
    """Only the decision: which framework fits your answers, why, and what you would get."""
    from newapp.answers import collect
    from newapp.contents import contents
    from newapp.recommend import recommend
    from newapp.stack import auth_stack, database_stack, open_to_anyone

    given = _factor_flags(locals())
    ask = not (yes or as_json) and len(given) < len(FLAG_KEYS)
    defaulted = [key for key in FLAG_KEYS if key not in given]
    if as_json and not yes and defaulted and _terminal():
        # No questions with --json (its output is for a program), but a person at a terminal
        # is told which answers were not theirs; on stderr, so stdout stays one JSON document.
        from newapp.errors import note

        note(
            f"took the defaults for {', '.join(defaulted)}; answer them with flags "
            "(or pass --yes to take them without this note)"
        )
    if ask and not _terminal():
        missing = ", ".join(key for key in FLAG_KEYS if key not in given)
        raise NoTerminal(
            f"no terminal to ask {missing}; pass --yes for the defaults, or answer them with flags"
        )
    asker = _terminal_asker() if ask else None
    if ask:
        _say_plan([key for key in FLAG_KEYS if key not in given] + ["framework"])
    questions = QuestionSet()
    answers = collect(questions, given, asker=asker, keys=FLAG_KEYS)
    rec = recommend(answers)
    chosen = rec.framework if framework is None else _accepted(questions, "framework", framework)
    db = questions.default("database", {}) if database is None else database
    project = {**answers, "framework": chosen, "database": _accepted(questions, "database", db)}
    project["auth"] = _accepted_auth(questions, project, auth)
    parts = [item.text for item in contents(project)]
    stack = database_stack(project)
    signin = auth_stack(project)
    unprotected = open_to_anyone(project)
    from newapp import ui

    if as_json:
        shape = {
            **rec.to_dict(),
            "contents_for": chosen,
            "contents": parts,
            "database": None if stack is None else {"stack": str(stack), "why": stack.why},
            "auth": None if signin is None else {"stack": signin.stack, "why": signin.why},
            "open_to_anyone": unprotected,
        }
        ui.say(json.dumps(shape, indent=2))
        return
    ui.show_recommendation(rec)
    ui.show_list(f"What your {ui.NAMES[chosen]} project will contain", parts)
    if stack is not None:
        ui.tell(f"Why this database stack: {stack.why}.")
    if signin is not None:
        ui.tell(f"Sign-in: {signin.stack}. Why: {signin.why}.")
    if unprotected is not None:
        ui.tell(f"No sign-in: {unprotected}.")


def _accepted(questions: QuestionSet, key: str, value: str) -> str:
    """A choice given by a flag, checked by copier.yml's rules."""
    from newapp.errors import BadAnswer
    from newapp.questions import on_command_line

    try:
        return str(questions.accept(key, value, {}))
    except BadAnswer as error:
        raise on_command_line(error) from None


def _accepted_auth(questions: QuestionSet, project: dict[str, Any], auth: bool | None) -> bool:
    """--auth/--no-auth, or its default for the database, checked by copier.yml's rules."""
    from newapp.errors import BadAnswer
    from newapp.questions import on_command_line

    value = questions.default("auth", project) if auth is None else auth
    try:
        return bool(questions.accept("auth", value, project))
    except BadAnswer as error:
        raise on_command_line(error) from None


@app.command(cls=_Command, short_help="The Flask vs FastAPI comparison.")
def compare() -> None:
    """The Flask vs FastAPI comparison, factor by factor."""
    from newapp import ui

    ui.show_comparison()


@app.command(cls=_Command, short_help="Bring a project up to this newapp's template.")
def update(
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="The project to update (default: here).")
    ] = Path(),
    dry_run: Annotated[bool, typer.Option(help="List what would change; write nothing.")] = False,
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data", "-d", metavar="KEY=VALUE", help="Change an answer and re-apply; repeat."
        ),
    ] = None,
) -> None:
    """Bring a project up to this newapp's template; your own edits are kept (3-way merge)."""
    from newapp.update import run

    run(path, data or (), dry_run=dry_run)


@app.command(
    "check-update", cls=_Command, short_help="Whether a project is behind newapp's template."
)
def check_update(
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="The project to check (default: here).")
    ] = Path(),
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON for scripts and CI, with the changes.")
    ] = False,
) -> None:
    """Whether a newer template than the project's is available, and what `newapp update` would
    change; exit 0 when the project is up to date, 5 when an update is available."""
    from newapp.update import UPDATE_AVAILABLE, check, show_check

    outcome = check(path)
    show_check(outcome, as_json=as_json)
    if outcome.update_available:
        raise typer.Exit(UPDATE_AVAILABLE)


def _terminate(signum: int, frame: FrameType | None) -> NoReturn:
    raise TermSignal


def main() -> None:
    """The `newapp` console script."""
    signal.signal(signal.SIGTERM, _terminate)
    app(prog_name="newapp")
