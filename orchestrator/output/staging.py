"""Result folders that appear whole or not at all.

A run writes its files into a fresh hidden folder beside the target,
``<parent>/.<name>.astra-cosim-tmp-<pid>-<random>``, and only when every file is written
renames it to ``--out``. So a run that fails, is interrupted or is killed never leaves a folder
that looks like a result, and two runs' files never mix (a 2.x run into the folder of a 1.0
run does not leave the old ``EndToEnd.csv`` behind). A ``--trace`` file is staged the same way.

The target is checked before the simulation starts, so a bad ``--out`` costs no run time:

* it does not exist, or is an empty folder, or holds a previous astra-cosim result (a
  ``summary.json`` of ours and nothing but the files a run writes) - replaced as a whole;
* anything else is refused unless ``--overwrite``;
* it must be creatable and writable: the staging folder is made at once, which proves it.

A run killed with SIGKILL cannot remove its staging folder; the hidden name keeps it from
looking like a result, and the next run into the same parent folder removes every staging
folder whose process is gone.

A target that cannot be renamed - a mount point such as a container volume, or a folder whose
parent is read-only - is filled in place instead: the staging folder is made inside it, and
at the end the old files are removed and the new ones moved up (not atomic, never mixed).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator

from orchestrator.errors import InputError
from orchestrator.processes import alive as _alive

MANIFEST = ".astra-cosim-result"        # the files of the run that wrote this folder
_STAGING = re.compile(r"^\..*\.astra-cosim-(?:tmp|old)-(\d+)-[^.]+$")
# `astra-cosim report DIR --html` writes its page into the folder under this name
HTML_NAME = "report.html"
# what a run wrote before manifests existed (a folder without one still counts as a result),
# and the report page written into it afterwards
_KNOWN_FILES = frozenset({"summary.json", "tutorial_result.csv", "EndToEnd.csv",
                          "collectives.csv", "layers.csv", "dimension_utilisation.csv",
                          "links.csv", HTML_NAME})
_COLLECTIVE_FILES = frozenset({"collective.csv", "busbw.png"})   # `collective`'s folder


def remove_stale(parent: str) -> None:
    """Remove staging leftovers of runs whose process is gone (killed with SIGKILL)."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        match = _STAGING.match(name)
        if match and int(match.group(1)) != os.getpid() and not _alive(int(match.group(1))):
            path = os.path.join(parent, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                try:
                    os.unlink(path)
                except OSError:
                    pass


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Delay SIGINT and SIGTERM (delivered when the block ends) in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _prefix(target: str, kind: str) -> str:
    return f".{os.path.basename(target)}.astra-cosim-{kind}-{os.getpid()}-"


def _ensure_parent(parent: str, flag: str, target: str) -> None:
    try:
        os.makedirs(parent, exist_ok=True)
    except FileExistsError:
        raise InputError(f"{flag}: cannot create {target}: {parent} is a file, not a folder"
                         ) from None
    except NotADirectoryError:
        raise InputError(f"{flag}: cannot create {target}: a part of {parent} is a file, not "
                         "a folder") from None
    except OSError as exc:
        raise InputError(f"{flag}: cannot create {target} ({exc.strerror})") from None
    if not os.path.isdir(parent):
        raise InputError(f"{flag}: cannot create {target}: {parent} is not a folder")


def _is_previous_result(folder: str, entries: list[str]) -> bool:
    """Every entry is a file an astra-cosim command wrote: one its manifest lists, or - for
    folders written before manifests - a run's files beside a valid summary.json, or the
    files of ``collective`` (nccl-tests mode)."""
    allowed: set[str] = set()
    try:
        with open(os.path.join(folder, MANIFEST), encoding="utf-8") as handle:
            allowed |= {str(name) for name in json.load(handle)} | {MANIFEST}
    except (OSError, ValueError, TypeError):
        pass
    if _has_summary(folder):
        allowed |= _KNOWN_FILES
    elif not allowed:
        allowed = set(_COLLECTIVE_FILES)
    return all(entry in allowed and os.path.isfile(os.path.join(folder, entry))
               for entry in entries)


def _has_summary(folder: str) -> bool:
    try:
        with open(os.path.join(folder, "summary.json"), encoding="utf-8") as handle:
            summary = json.load(handle)
    except (OSError, ValueError):
        return False
    return isinstance(summary, dict) and {"total_ns", "format"} <= set(summary)


class StagedFolder:
    """``--out``: checked and staged now, moved into place by ``commit``."""

    def __init__(self, target: str, overwrite: bool, keep: tuple[str, ...] = (),
                 flag: str = "--out") -> None:
        """``keep``: paths that must not be inside the folder (the run's inputs, the working
        directory), since replacing the folder would delete them."""
        # a symbolic link to a folder: the result goes where it points
        self.target = os.path.realpath(target) if os.path.islink(target) else \
            os.path.abspath(target)
        parent = os.path.dirname(self.target)
        if os.path.lexists(self.target) and not os.path.isdir(self.target):
            raise InputError(f"{flag}: {target} is a file; expected a folder for the results")
        for path in keep:
            real = os.path.realpath(path)
            if os.path.commonpath([real, self.target]) == self.target:
                raise InputError(f"{flag}: {target} contains {path}, which a result folder "
                                 "would replace; choose a folder of its own")
        exists = os.path.isdir(self.target)
        if exists:
            remove_stale(self.target)            # an in-place run killed in this folder
        if exists and not overwrite:
            entries = os.listdir(self.target)
            if entries and not _is_previous_result(self.target, entries):
                raise InputError(f"{flag}: {target} is not empty and holds files that are not "
                                 "an astra-cosim result; choose another folder or add "
                                 "--overwrite to replace its contents")
        _ensure_parent(parent, flag, target)
        remove_stale(parent)
        # in place: a folder that cannot be renamed (a mount point, e.g. a container volume)
        # or whose parent is read-only is filled from a hidden staging folder inside it
        self.in_place = exists and (os.path.ismount(self.target) or
                                    not os.access(parent, os.W_OK | os.X_OK))
        where = self.target if self.in_place else parent
        try:
            self.path = tempfile.mkdtemp(prefix=_prefix(self.target, "tmp"), dir=where)
        except OSError as exc:
            raise InputError(f"{flag}: cannot write into {where} ({exc.strerror})") from None
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.path, 0o777 & ~umask)      # as an ordinary mkdir would

    def staged(self, path: str) -> str:
        """Where to write ``path`` (a name inside the target) for now."""
        return os.path.join(self.path, path)

    def commit(self) -> None:
        """Move the written folder into place; an old result there goes away whole. SIGINT
        and SIGTERM wait until it is done: between the two renames neither result is in
        place."""
        with _signals_held():
            self._commit()

    def _commit(self) -> None:
        files = sorted(os.path.relpath(os.path.join(root, name), self.path)
                       for root, _, names in os.walk(self.path) for name in names)
        with open(os.path.join(self.path, MANIFEST), "w", encoding="utf-8") as handle:
            json.dump(files, handle)
        if self.in_place:
            self._commit_in_place()
            return
        old = None
        if os.path.lexists(self.target):
            old = tempfile.mkdtemp(prefix=_prefix(self.target, "old"),
                                   dir=os.path.dirname(self.target))
            os.rename(self.target, os.path.join(old, "previous"))
        try:
            os.rename(self.path, self.target)
        except BaseException:
            if old is not None:
                os.rename(os.path.join(old, "previous"), self.target)
            raise
        finally:
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)

    def _commit_in_place(self) -> None:
        """Empty the folder but for the staging folder, then move the staged files up: not
        atomic, but the folder never holds two runs' files."""
        staging = os.path.basename(self.path)
        for name in os.listdir(self.target):
            if name != staging:
                path = os.path.join(self.target, name)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
        for name in os.listdir(self.path):
            os.rename(os.path.join(self.path, name), os.path.join(self.target, name))
        os.rmdir(self.path)

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


class StagedFile:
    """``--trace``: a file written beside its target and renamed over it at the end."""

    def __init__(self, target: str, flag: str = "--trace") -> None:
        self.target = os.path.abspath(target)
        parent = os.path.dirname(self.target)
        if os.path.isdir(self.target):
            raise InputError(f"{flag}: {target} is a folder; expected a file name")
        _ensure_parent(parent, flag, target)
        remove_stale(parent)
        try:
            handle, self.path = tempfile.mkstemp(prefix=_prefix(self.target, "tmp"), dir=parent)
        except OSError as exc:
            raise InputError(f"{flag}: cannot write into {parent} ({exc.strerror})") from None
        os.close(handle)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.path, 0o666 & ~umask)

    def commit(self) -> None:
        os.replace(self.path, self.target)

    def discard(self) -> None:
        try:
            os.unlink(self.path)
        except OSError:
            pass
