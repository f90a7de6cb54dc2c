"""What an import did, or would do: :class:`ImportReport`."""

from __future__ import annotations

import attrs

from .._core.errors import ImportProblem

__all__ = ["ImportReport"]


@attrs.frozen
class ImportReport:
    """The outcome of ``flow.import_issues``: what was (or, with ``dry_run``, would be) done.

    ``created`` holds the new issues' ids (in a dry run, the rows' external ids, as nothing has
    an id yet), ``updated`` and ``unchanged`` the ids of issues the sheet already held, and
    ``steps`` every (issue id, trigger) an update fires, in order. ``problems`` is empty unless
    this is a dry run of a sheet the import would refuse (a real import raises
    :class:`govflow.ImportRejected` with the same problems). ``notes`` are things worth saying
    that do not stop the import (such as persons a sheet names for an issue whose persons no
    step can set).
    """

    source: str
    sheet: str
    rows: int
    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    steps: tuple[tuple[str, str], ...] = ()
    problems: tuple[ImportProblem, ...] = ()
    notes: tuple[ImportProblem, ...] = ()
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        """Whether the sheet has no problems (the import was, or would be, written)."""
        return not self.problems

    def text(self, lang: str = "zh") -> str:
        """The report for a person: a summary line, then every problem and note, one a line."""
        if lang == "zh":
            mode = "（试导入，未写入）" if self.dry_run else ""
            head = (f"{self.source} {self.sheet}：{self.rows}行，新建{len(self.created)}项，"
                    f"更新{len(self.updated)}项，无变化{len(self.unchanged)}项，问题{len(self.problems)}处{mode}")
        else:
            mode = " (dry run, nothing written)" if self.dry_run else ""
            head = (f"{self.source} {self.sheet}: {self.rows} rows, {len(self.created)} created, "
                    f"{len(self.updated)} updated, {len(self.unchanged)} unchanged, "
                    f"{len(self.problems)} problems{mode}")
        lines = [head, *(p.text(lang) for p in self.problems), *(p.text(lang) for p in self.notes)]
        return "\n".join(lines)
