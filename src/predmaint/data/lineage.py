"""The lineage manifest: an append-only ``data/manifest.csv`` with one row per data version.

Each row records the version id, the file, its content hash (the plain md5 of the bytes, which is
what DVC 3 records for a file output), the row count, the producing stage and command, the git
commit of the code (and whether the work tree was dirty), the parent versions and a timestamp.
Writing the same content to the same path again does not create a new version.
"""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MANIFEST_FIELDS: tuple[str, ...] = (
    "version_id",
    "path",
    "md5",
    "rows",
    "stage",
    "command",
    "git_commit",
    "git_dirty",
    "parents",
    "created_at",
    "details",
)


@dataclass(frozen=True)
class DataVersion:
    """One row of the manifest."""

    version_id: str
    path: str
    md5: str
    rows: int
    stage: str
    command: str
    git_commit: str
    git_dirty: bool
    parents: tuple[str, ...] = ()
    created_at: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def file_md5(path: Path) -> str:
    """Return the md5 of a file's bytes (the hash DVC 3 stores for a file)."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def git_state(cwd: Path) -> tuple[str, bool]:
    """Return the HEAD commit of the repository at ``cwd`` and whether its work tree is dirty.

    Returns ``("unknown", True)`` outside a git repository or without commits.
    """
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown", True
    return commit, bool(status)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


class Manifest:
    """Reader and appender of the lineage manifest at ``path`` for the project at ``root``."""

    def __init__(self, path: Path, root: Path) -> None:
        self.path = path
        self.root = root

    def read(self) -> list[DataVersion]:
        """Return every version, oldest first."""
        if not self.path.exists():
            return []
        with self.path.open(newline="", encoding="utf-8") as fh:
            return [self._parse(row) for row in csv.DictReader(fh)]

    @staticmethod
    def _parse(row: dict[str, str]) -> DataVersion:
        return DataVersion(
            version_id=row["version_id"],
            path=row["path"],
            md5=row["md5"],
            rows=int(row["rows"]),
            stage=row["stage"],
            command=row["command"],
            git_commit=row["git_commit"],
            git_dirty=row["git_dirty"] == "true",
            parents=tuple(p for p in row["parents"].split(";") if p),
            created_at=row["created_at"],
            details=json.loads(row["details"]) if row["details"] else {},
        )

    def latest_for(self, path: Path | str) -> DataVersion | None:
        """Return the newest version recorded for a file, or None."""
        rel = _relative(Path(path) if Path(path).is_absolute() else self.root / path, self.root)
        matches = [v for v in self.read() if v.path == rel]
        return matches[-1] if matches else None

    def find(self, key: str) -> DataVersion:
        """Find a version by id, or the newest version of a path.

        Raises:
            KeyError: Nothing in the manifest matches ``key``.
        """
        for version in self.read():
            if version.version_id == key:
                return version
        found = self.latest_for(key)
        if found is None:
            raise KeyError(f"{key!r} is neither a version id nor a path in {self.path}")
        return found

    def record(
        self,
        file: Path,
        *,
        stage: str,
        rows: int,
        parents: tuple[str, ...] = (),
        details: dict[str, Any] | None = None,
        command: str | None = None,
    ) -> DataVersion:
        """Append a row for ``file`` unless its current content is already the newest version.

        Args:
            file: The data file the stage wrote.
            stage: The producing stage (``ingest``, ``split``, ``clean`` …).
            rows: Number of data rows in the file.
            parents: Version ids the file was derived from.
            details: Extra facts to keep (source, hashes, validation summary …), stored as JSON.
            command: The command line; defaults to this process's ``argv``.

        Returns:
            The recorded (or already current) version.
        """
        md5 = file_md5(file)
        rel = _relative(file, self.root)
        current = self.latest_for(rel)
        if current is not None and current.md5 == md5:
            return current
        existing = self.read()
        commit, dirty = git_state(self.root)
        version = DataVersion(
            version_id=f"v{len(existing) + 1}_{stage}",
            path=rel,
            md5=md5,
            rows=rows,
            stage=stage,
            command=command if command is not None else " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:]),
            git_commit=commit,
            git_dirty=dirty,
            parents=parents,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            details=details or {},
        )
        self._append(version)
        return version

    def _append(self, version: DataVersion) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new_file = not self.path.exists()
        row = asdict(version)
        row["git_dirty"] = "true" if version.git_dirty else "false"
        row["parents"] = ";".join(version.parents)
        row["details"] = json.dumps(version.details, sort_keys=True, default=str)
        with self.path.open("a", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=MANIFEST_FIELDS, lineterminator="\n")
            if new_file:
                writer.writeheader()
            writer.writerow(row)

    def chain(self, key: str) -> list[DataVersion]:
        """Return the version named by ``key`` followed by its ancestors, back to the raw data."""
        by_id = {v.version_id: v for v in self.read()}
        start = self.find(key)
        ordered: list[DataVersion] = []
        queue = [start.version_id]
        seen: set[str] = set()
        while queue:
            vid = queue.pop(0)
            if vid in seen or vid not in by_id:
                continue
            seen.add(vid)
            ordered.append(by_id[vid])
            queue.extend(by_id[vid].parents)
        return ordered
