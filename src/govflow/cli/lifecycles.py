"""``govflow diagram`` and ``govflow plugins``: what this installation knows."""

from __future__ import annotations

from pathlib import Path

import click

from ._app import Session, command, root
from ._output import clean

__all__ = ["COMMANDS", "diagram", "plugins"]


@command(root, "diagram")
@click.argument("lifecycle", default="issue-list")
@click.option("--version", "version", type=click.IntRange(min=1), help="A version (default: the latest).")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot", "svg"]), default="mermaid", show_default=True,
              help="svg needs Graphviz's dot program.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (default: standard output).")
def diagram(session: Session, lifecycle: str, version: int | None, fmt: str, output: Path | None) -> None:
    """流程图: draw LIFECYCLE's states and triggers (labelled in Chinese and English, with roles)."""
    out = session.out
    definition = session.flow().lifecycle(lifecycle, version)
    text = definition.diagram(fmt)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        out.line(out.pick(f"已写入 {clean(output)}", f"written: {clean(output)}"))
    if out.json:
        out.emit({"lifecycle": definition.key, "format": fmt, "path": str(output) if output else None,
                  **({} if output else {"diagram": text})})
    elif output is None:
        click.echo(text, nl=not text.endswith("\n"))


@command(root, "plugins")
def plugins(session: Session) -> None:
    """The loaded plugins with their hooks, and those that failed to load."""
    flow, out = session.flow(), session.out
    loaded, failed = flow.plugins(), flow.plugin_failures()
    out.emit({"plugins": loaded, "failures": [{"name": f.name, "distribution": f.distribution,
                                               "problem": f.problem} for f in failed]})
    out.table(
        [out.pick("插件", "plugin"), out.pick("发行包", "distribution"), out.pick("版本", "version"),
         out.pick("钩子", "hooks")],
        [[p.name + (out.pick("（内置）", " (built-in)") if p.builtin else ""), p.distribution, p.version,
          ", ".join(h.removeprefix("govflow_") for h in p.hooks)] for p in loaded],
    )
    for failure in failed:
        out.note(out.pick(f"未加载 not loaded: {failure}", f"not loaded: {failure}"))


COMMANDS = [diagram, plugins]
