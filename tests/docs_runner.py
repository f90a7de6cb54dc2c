"""Run every ```python block of a Markdown page in one namespace, in order.

A ```text block right after a python block is the expected stdout; it is compared.
```toml/```json/```yaml blocks preceded by a line '<!-- file: NAME -->' are written to NAME.
Blocks preceded by '<!-- skip -->' are not run.
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
import traceback

FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)

def blocks(text: str) -> list[tuple[str, str, str, int, int]]:
    out = []
    for m in FENCE.finditer(text):
        before = text[:m.start()].rstrip("\n").splitlines()
        prev = before[-1] if before else ""
        out.append((m.group(1), m.group(2), prev, m.start(), m.end()))
    return out

def run(path: str) -> int:
    """Run the page's python blocks; print what failed; return the number of failures."""
    with open(path, encoding="utf-8") as page:
        text = page.read()
    bs = blocks(text)
    ns: dict[str, object] = {"__name__": "__docs__"}
    failures = 0
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            for i, (lang, code, prev, start, end) in enumerate(bs):
                line = text[:start].count("\n") + 1
                m = re.match(r"<!-- file: (\S+) -->", prev)
                if m:
                    with open(m.group(1), "w", encoding="utf-8") as out:
                        out.write(code)
                    continue
                if lang != "python" or prev.strip() == "<!-- skip -->":
                    continue
                buf = io.StringIO()
                try:
                    with contextlib.redirect_stdout(buf):
                        exec(compile(code, f"{path}:{line}", "exec"), ns)
                except Exception:
                    failures += 1
                    print(f"FAIL {path}:{line}")
                    traceback.print_exc()
                    print("stdout so far:\n" + buf.getvalue())
                    continue
                got = buf.getvalue()
                nxt = bs[i + 1] if i + 1 < len(bs) else None
                if nxt and nxt[0] == "text" and text[end:nxt[3]].strip() == "":
                    if nxt[1] != got:
                        failures += 1
                        print(f"OUTPUT MISMATCH {path}:{line}\n--- expected\n{nxt[1]}--- got\n{got}")
                elif got:
                    print(f"(no output block) {path}:{line}\n{got}")
        finally:
            os.chdir(cwd)
    print(f"{path}: {'OK' if not failures else f'{failures} FAILURES'}")
    return failures

if __name__ == "__main__":
    sys.exit(sum(run(p) for p in sys.argv[1:]) > 0)
