"""The one error tree: each failure a user can cause is a class with its own exit code."""

from __future__ import annotations

import os
import sys
import textwrap


class NewappError(Exception):
    """A failure the user can fix; shown as one line on stderr, never as a traceback."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def show(self) -> None:
        # One line, whatever the user typed: escape line breaks an echoed answer may carry.
        message = self.message.replace("\r", "\\r").replace("\n", "\\n")
        print(_fitted(f"error: {message}"), file=sys.stderr)


def note(message: str) -> None:
    """A remark that is no error, on stderr like one (stdout may be a program's input)."""
    print(_fitted(f"note: {message}"), file=sys.stderr)


def _fitted(line: str) -> str:
    """On a terminal, `line` wrapped at word boundaries to its width (the terminal would cut
    words in two); in a pipe or a log, one line for grep."""
    try:
        if not sys.stderr.isatty():
            return line
        columns = os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return line
    indent = " " * len("error: ")
    return textwrap.fill(
        line,
        width=max(columns - 1, 40),
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


class BadAnswer(NewappError):
    """An answer, flag, or --data value breaks a rule of the question set.

    `key` names the question when the message ends with a fix that fits any way of answering
    ("choose another"), so that newapp can add the flag for answers not typed at a prompt.
    """

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class AnswersFileError(NewappError):
    """The --answers-file is missing, unreadable, malformed, or has unknown keys."""


class NoTerminal(NewappError):
    """A question needs asking but there is no terminal to ask it on."""


class DestinationError(NewappError):
    """The destination cannot be written (not a folder, no permission, disk full)."""


class InsideCheckout(DestinationError):
    """The destination is inside newapp's own source checkout, where git would track it."""


class Conflict(NewappError):
    """The destination already holds files the template would write."""

    exit_code = 3


class NotUpdatable(NewappError):
    """`newapp update` refuses: not a newapp project, not committed to git, uncommitted changes,
    a project newer than this newapp, or a framework switch; nothing was changed."""


class UpdateConflict(NewappError):
    """An update left conflict markers where the template and the user changed the same lines."""

    exit_code = 4


class Cancelled(NewappError):
    """The user pressed Ctrl-C (SIGINT); nothing was written."""

    exit_code = 130


class Terminated(NewappError):
    """The process got SIGTERM; nothing was written."""

    exit_code = 143


class TermSignal(BaseException):
    """SIGTERM arrived. A BaseException, like KeyboardInterrupt, so that no `except Exception`
    on the way (copier wraps errors raised while it renders a validator) can swallow it; the
    CLI turns it into Terminated."""


class OutputError(NewappError):
    """stdout cannot be written: a full disk, a closed pipe."""

    exit_code = 1


class TemplateMissing(NewappError):
    """The installed newapp lacks its templates (a broken install)."""

    exit_code = 1


def unexpected(error: BaseException) -> NewappError:
    """Wrap a bug in a one-line message that says how to see the traceback."""
    err = NewappError(
        f"unexpected {type(error).__name__}: {error}; run again with --debug "
        "(or NEWAPP_DEBUG=1) to see the traceback, and please report it"
    )
    err.exit_code = 1
    return err


def one_line(error: BaseException) -> str:
    """An error's text on one line, for a message about it."""
    return " ".join(str(error).split())
