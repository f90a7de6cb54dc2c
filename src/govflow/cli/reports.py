"""``govflow bulletin``, ``govflow scores`` and ``govflow evaluation``: 月通报 and 考评."""

from __future__ import annotations

from pathlib import Path

import click

from ._app import Session, command, root
from ._output import clean

__all__ = ["COMMANDS", "bulletin", "evaluation", "scores"]

_FORMATS = ("html", "markdown", "xlsx", "csv", "json")
_TABLES = ("ranking", "facts", "red_list", "black_list", "overdue", "changes")


@command(root, "bulletin")
@click.argument("period")
@click.option("--format", "fmt", type=click.Choice(_FORMATS), required=True,
              help="html and xlsx need the bulletin extra (pip install 'govflow[bulletin]').")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The file to write.")
@click.option("--table", type=click.Choice(_TABLES), default="ranking", show_default=True,
              help="For csv: which table.")
def bulletin(session: Session, period: str, fmt: str, output: Path, table: str) -> None:
    """月通报: write the bulletin of PERIOD (2026-06, 2026-Q2, 2026) in a format, in --lang."""
    out = session.out
    made = session.flow().bulletin(period)
    options = {"table": table} if fmt == "csv" else {}
    content = made.render(fmt, out.lang, **options)
    data = content if isinstance(content, bytes) else content.encode("utf-8")
    output.write_bytes(data)
    out.emit({"path": str(output), "format": fmt, "period": str(period), "bytes": len(data),
              "title": made.title(out.lang)})
    out.line(out.pick(f"已写入 {clean(output)}：{made.title('zh')}", f"written: {clean(output)}: {made.title('en')}"))


@command(root, "scores")
@click.argument("period")
def scores(session: Session, period: str) -> None:
    """考评: every unit's score for PERIOD (2026-06, 2026-Q2, 2026) with its rank within its level."""
    flow, out = session.flow(), session.out
    found = flow.scores(period)
    out.emit(found)
    names = {unit.id: unit.name for unit in flow.units()}
    out.table(
        [out.pick("单位", "unit"), out.pick("名称", "name"), out.pick("层级", "level"), out.pick("得分", "total"),
         out.pick("名次", "rank"), out.pick("等次", "grade")],
        [[s.unit, names.get(s.unit, s.unit), s.level,
          s.total if s.total is not None else out.pick("不计分", "not scored"), s.rank,
          flow.scoring.grade(s.total, out.lang)]
         for s in found],
    )


@command(root, "evaluation")
@click.argument("year")
def evaluation(session: Session, year: str) -> None:
    """年度综合考评: the year's evaluation, graded and ranked within each level."""
    flow, out = session.flow(), session.out
    found = flow.evaluation(year)
    out.emit(found)
    names = {unit.id: unit.name for unit in flow.units()}
    out.table(
        [out.pick("单位", "unit"), out.pick("名称", "name"), out.pick("层级", "level"), out.pick("得分", "score"),
         out.pick("等次", "grade"), out.pick("名次", "rank"), out.pick("到期数", "due"), out.pick("月数", "months")],
        [[e.unit, names.get(e.unit, e.unit), e.level, e.score, flow.scoring.grade(e.score, out.lang),
          e.rank, e.due, e.months] for e in found],
    )


COMMANDS = [bulletin, evaluation, scores]
