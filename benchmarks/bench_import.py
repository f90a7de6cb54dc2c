"""Importing a large problem list into SQLite with ``flow.import_issues``, next to its floors.

    .venv/bin/python benchmarks/bench_import.py            # 100,000 rows
    .venv/bin/python benchmarks/bench_import.py --quick    # 10,000 rows
    .venv/bin/python benchmarks/bench_import.py --profile  # cProfile of the xlsx import

Target (issue #15): 100,000 rows import in under 30 s on SQLite.

The sheet is made the way an office makes it: a title row, an empty row and a note
above the header, Chinese headers, 300 units named by full name or short name
(祥云 for 祥云县), cooperating units in one cell split by 、, due dates in the
five spellings offices use (a date cell, ``2026-07-31``, ``2026/7/31``,
``2026.7.31``, ``2026年7月31日``) and ``N个工作日``, numbers stored as text.
The same rows are written as an ``.xlsx`` (openpyxl) and as a GB18030 ``.csv``.

Each file is imported into a fresh SQLite flow (``govflow.open(path)``), timed
from the call to its return: reading, checking every row, and one transaction
with every assign entry. Then the same file again (idempotent: nothing to
write) is timed. The floors: openpyxl reading the rows in read-only mode and
nothing else, and ``csv.reader`` over the decoded file; no import can be
faster than reading its file. ``flow.verify_ledger()`` is checked after each
import.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import datetime as dt
import io
import os
import platform
import pstats
import random
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import openpyxl

import govflow
from govflow.testing import FakeClock

HEADER = ["序号", "问题", "问题描述", "问题类别", "牵头单位", "配合单位", "完成时限", "第一责任人", "直接责任人"]
CATEGORIES = ["生态环境", "基础设施", "市场秩序", "公共安全", "社会治理", "民生服务"]
NOW = "2026-03-02T09:00:00+08:00"


def units(flow: govflow.Govflow) -> list[tuple[str, str]]:
    """A prefecture office, 30 counties and 269 townships: (id, full name)."""
    flow.add_unit("OFFICE", "大理州市域社会治理领导小组办公室", level="prefecture", supervisor=True)
    made: list[tuple[str, str]] = []
    for c in range(30):
        unit_id, name = f"C{c:02d}", f"第{c + 1}测试县"
        flow.add_unit(unit_id, name, level="county", parent="OFFICE")
        made.append((unit_id, name))
    for t in range(269):
        unit_id, name = f"T{t:03d}", f"第{t + 1}号测试镇"
        flow.add_unit(unit_id, name, level="township", parent=f"C{t % 30:02d}")
        made.append((unit_id, name))
    return made


def short(name: str) -> str:
    """How a clerk shortens a name: 第3测试县 -> 第3测试 (unique among these units)."""
    return name[:-1]


def rows(count: int, names: list[tuple[str, str]], seed: int = 15) -> list[list[Any]]:
    rng = random.Random(seed)
    made: list[list[Any]] = []
    for n in range(count):
        day = dt.date(2026, 4, 1) + dt.timedelta(days=rng.randrange(600))
        form = n % 6
        due: Any = [day, day.isoformat(), f"{day.year}/{day.month}/{day.day}", f"{day.year}.{day.month}.{day.day}",
                    f"{day.year}年{day.month}月{day.day}日", f"{rng.randrange(5, 60)}个工作日"][form]
        lead = rng.choice(names)
        others = [u for u in rng.sample(names, 3) if u != lead][: rng.randrange(3)]
        made.append([
            str(n + 1) if n % 2 else n + 1,
            f"第{n + 1}号问题：村庄人居环境整治不到位，需要限期整改",
            "群众反映强烈，现场核查属实" if n % 3 == 0 else None,
            CATEGORIES[n % len(CATEGORIES)],
            lead[1] if n % 4 else short(lead[1]),
            "、".join(u[1] for u in others) or None,
            due,
            "王某某" if n % 5 == 0 else None,
            "李某某" if n % 5 == 0 else None,
        ])
    return made


def write_xlsx(path: Path, data: list[list[Any]]) -> None:
    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet("问题清单")
    ws.append(["2026年问题清单（基准）"])
    ws.append([])
    ws.append(["注：时限以文件为准"])
    ws.append(HEADER)
    for row in data:
        ws.append(row)
    book.save(path)


def write_csv(path: Path, data: list[list[Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in data:
        writer.writerow([v.isoformat() if isinstance(v, dt.date) else ("" if v is None else v) for v in row])
    path.write_bytes(buffer.getvalue().encode("gb18030"))


def timed_import(path: Path, store: Path, profile: bool = False) -> tuple[float, float, float, float, int]:
    """(first import s, its CPU s, same file again s, its CPU s, issues created) on a fresh SQLite flow."""
    flow = govflow.open(str(store), clock=FakeClock(NOW))
    try:
        units(flow)
        start, cpu = time.perf_counter(), time.process_time()
        if profile:
            profiler = cProfile.Profile()
            report = profiler.runcall(flow.import_issues, path, by="OFFICE")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        else:
            report = flow.import_issues(path, by="OFFICE")
        first, first_cpu = time.perf_counter() - start, time.process_time() - cpu
        start, cpu = time.perf_counter(), time.process_time()
        again = flow.import_issues(path, by="OFFICE")
        second, second_cpu = time.perf_counter() - start, time.process_time() - cpu
        assert not again.created and len(again.unchanged) == len(report.created)
        flow.verify_ledger()
        return first, first_cpu, second, second_cpu, len(report.created)
    finally:
        flow.close()


def floor_xlsx(path: Path) -> tuple[float, float]:
    start, cpu = time.perf_counter(), time.process_time()
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    ws = book["问题清单"]
    for _ in ws.iter_rows(values_only=True):
        pass
    book.close()
    return time.perf_counter() - start, time.process_time() - cpu


def floor_csv(path: Path) -> tuple[float, float]:
    start, cpu = time.perf_counter(), time.process_time()
    for _ in csv.reader(io.StringIO(path.read_bytes().decode("gb18030"))):
        pass
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10,000 rows instead of 100,000")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the xlsx import")
    args = parser.parse_args()
    count = args.rows or (10_000 if args.quick else 100_000)
    target = 30.0 * count / 100_000
    print(f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, openpyxl {openpyxl.__version__}, "
          f"{count:,} rows{' (--quick)' if args.quick else ''}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with govflow.open(":memory:", clock=FakeClock(NOW)) as scratch:
            names = units(scratch)
        data = rows(count, names)
        xlsx, gb = root / "清单.xlsx", root / "清单.csv"
        write_xlsx(xlsx, data)
        write_csv(gb, data)
        print(f"files: {xlsx.stat().st_size / 1e6:.1f} MB xlsx, {gb.stat().st_size / 1e6:.1f} MB csv")
        results = []
        for name, path, floor in (("xlsx", xlsx, floor_xlsx), ("csv (GB18030)", gb, floor_csv)):
            *times, created = timed_import(path, root / f"{path.suffix[1:]}.sqlite3", args.profile and path is xlsx)
            assert created == count, (created, count)
            results.append((name, times, floor(path)))
        print(f"\n{'':34}{'wall s':>8}{'CPU s':>8}{'rows/s':>10}{'÷ read floor':>14}")
        for name, (first, first_cpu, again, again_cpu), (read, read_cpu) in results:
            for what, wall, cpu in ((f"import {name}", first, first_cpu),
                                    ("same file again, nothing to do", again, again_cpu),
                                    (f"floor: read the {name} only", read, read_cpu)):
                print(f"{what:34}{wall:8.2f}{cpu:8.2f}{count / wall:10,.0f}{wall / read:13.1f}x")
        slowest = max(times[0] for _, times, _ in results)
        verdict = "PASS" if slowest < target else "MISS"
        print(f"\n{verdict}: the slower import took {slowest:.1f} s (wall clock) for {count:,} rows "
              f"(target < {target:.0f} s)")
        print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
              "(CPU s is this process's own time)")

if __name__ == "__main__":
    main()
