"""Six months of a prefecture's problem list, then the June bulletin (月通报) and the year's evaluation (考评).

The supervision office of a prefecture (大理州委督查室) assigns issues (交办)
every working day from January to June 2026 to four counties (县) and eight
townships (乡镇), naming the 第一责任人 and 直接责任人 and, for some issues, a
cooperating unit (配合单位). The units behave the way real ones do, at random
but seeded, so every run is the same: 祥云县 and 下庄镇 are fast and reliable,
宾川县, 金牛镇 and 草海镇 run late and draw 催办, 督办 and 约谈 from the sweep (and
do better after a 约谈), 鹤庆县 and 红岩镇 report on time but are often sent back
(退回重办). Units ask for extensions (延期) which the office mostly grants; the
office verifies with a satisfaction rating (满意度 1–5) and now and then cancels
a duplicate or hands an issue to another township (改派). The escalation
sweep runs every working day at 18:00.

Then the June bulletin is written in every format — Markdown, HTML, xlsx, CSV
(one file per table) and JSON in Chinese, HTML and Markdown in English — the
year's comprehensive evaluation (年度综合考评) is printed, and the ledger (台账)
is verified.

    .venv/bin/python examples/monthly_bulletin.py [OUTPUT_DIR] [--db PATH.sqlite3] [--seed N]

It needs the ``bulletin`` extra (matplotlib for the charts, openpyxl for xlsx):
``pip install 'govflow[bulletin]'`` (``make demo`` and ``make test`` install it). It
checks for them before it starts.

OUTPUT_DIR defaults to ./bulletin-out; the SQLite file defaults to
OUTPUT_DIR/monthly_bulletin.sqlite3 and is replaced on every run (a path given
with --db must not exist yet).
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import itertools
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from _display import table  # examples/_display.py, beside this script

import govflow
from govflow.testing import FakeClock

OFFICE = "DL-DCS"
FIRST_DAY = dt.date(2026, 1, 4)  # Sunday 4 January 2026: a make-up working day (调休上班) after New Year
LAST_DAY = dt.date(2026, 6, 30)
PERIOD = "2026-06"
CSV_TABLES = ("ranking", "facts", "red_list", "black_list", "overdue", "changes")


@dataclass
class Profile:
    """How a unit works. Probabilities are per issue; offsets in working days."""

    name: str
    per_month: float          # issues assigned to the unit in a month, on average
    late_accept: float        # chance the 签收 comes after the limit (1 working day)
    late: float               # chance the result is fed back after the due date
    rejected: float           # chance a feedback is sent back (退回重办)
    extension: float          # chance the unit asks for an extension (延期)
    ratings: tuple[int, ...]  # the office's ratings (满意度) to draw from
    pace: tuple[float, float] = (0.3, 0.9)  # share of the time allowed an on-time unit takes


FAST = Profile("fast", 16, 0.02, 0.03, 0.05, 0.04, (5, 5, 5, 4, 4))
STEADY = Profile("steady", 14, 0.10, 0.12, 0.12, 0.10, (5, 4, 4, 4, 3), (0.5, 1.0))
LATE = Profile("late", 15, 0.35, 0.45, 0.15, 0.15, (4, 3, 3, 3, 2), (0.7, 1.0))
SLOPPY = Profile("sloppy", 15, 0.10, 0.10, 0.45, 0.05, (4, 3, 3, 2, 2), (0.3, 0.8))


@dataclass
class Unit:
    id: str
    name: str
    level: str
    parent: str
    profile: Profile
    first: str                 # 第一责任人: the head of the county or township
    direct: tuple[str, ...]    # 直接责任人: the officials who carry the issues
    interviews: int = 0        # 约谈 so far: each one makes the unit less late afterwards

    def late_chance(self) -> float:
        return self.profile.late * 0.5 ** self.interviews


COUNTIES = [
    # id, name, profile, head, officials, townships (id, name, profile, head, officials)
    ("XIANGYUN", "祥云县", FAST, "杨建华", ("李志刚", "张丽萍", "赵永明"), [
        ("XY-XIANGCHENG", "祥云县祥城镇", STEADY, "段海波", ("王春燕", "李国庆")),
        ("XY-XIAZHUANG", "祥云县下庄镇", FAST, "李继红", ("王永祥", "杨秀英")),
    ]),
    ("BINCHUAN", "宾川县", LATE, "赵建国", ("钱文斌", "孙晓东", "周丽华"), [
        ("BC-JINNIU", "宾川县金牛镇", LATE, "吴志强", ("郑海燕", "何立新")),
        ("BC-BINJU", "宾川县宾居镇", STEADY, "施红梅", ("罗建平", "字春华")),
    ]),
    ("MIDU", "弥渡县", STEADY, "董卫东", ("苏明亮", "张建新", "李红霞"), [
        ("MD-MICHENG", "弥渡县弥城镇", FAST, "马丽娟", ("普永华", "陈海涛")),
        ("MD-HONGYAN", "弥渡县红岩镇", SLOPPY, "罗文军", ("自正雄", "杨丽芳")),
    ]),
    ("HEQING", "鹤庆县", SLOPPY, "寸志华", ("洪建明", "杨海燕", "张永春"), [
        ("HQ-YUNHE", "鹤庆县云鹤镇", STEADY, "赵立群", ("段春梅", "李志宏")),
        ("HQ-CAOHAI", "鹤庆县草海镇", LATE, "高建军", ("和丽华", "李卫国")),
    ]),
]

#: (category, problem) — the kinds of issue a prefecture's problem list holds.
PROBLEMS = [
    ("基层治理", "网格员配备不足，网格化服务管理未全覆盖"),
    ("基层治理", "村（社区）综治中心未实体化运行"),
    ("基层治理", "村规民约修订未完成"),
    ("基层治理", "集镇区排水沟堵塞"),
    ("基层治理", "村组道路照明不足"),
    ("矛盾纠纷化解", "矛盾纠纷排查台账不规范"),
    ("矛盾纠纷化解", "信访积案未按期化解"),
    ("矛盾纠纷化解", "土地承包经营权纠纷调处滞后"),
    ("矛盾纠纷化解", "人民调解委员会未挂牌运行"),
    ("公共安全", "“雪亮工程”视频监控点位离线"),
    ("公共安全", "自建房安全隐患排查整治未完成"),
    ("公共安全", "学校周边交通安全隐患未整改"),
    ("公共安全", "森林防火通道清理不到位"),
    ("公共安全", "农村消防水源不足"),
    ("生态环境", "洱海流域污水收集管网破损"),
    ("生态环境", "农村生活垃圾清运不及时"),
    ("生态环境", "河道沿岸违规堆放建筑垃圾"),
    ("生态环境", "畜禽养殖粪污处理设施未配套"),
    ("民生服务", "饮水安全巩固提升工程未完工"),
    ("民生服务", "农贸市场周边占道经营"),
    ("民生服务", "便民服务中心事项未进驻"),
    ("民生服务", "流动人口信息登记滞后"),
    ("民生服务", "农村危房改造进度滞后"),
    ("民生服务", "留守儿童关爱服务台账不完整"),
]
MEASURES = ["制定整改方案，明确责任人和时限", "组织专班现场整改", "召开专题会议研究部署", "逐户排查，建立台账",
            "协调相关部门联合整治", "落实专项资金，启动施工"]
RESULTS = ["已整改完成，群众满意", "问题已解决，建立长效机制", "整改到位，附整改前后照片", "已完成整改并通过自查"]
REJECTIONS = ["佐证材料不足，未见整改前后对比", "只有方案，未见实际落实", "现场核查仍有问题", "群众反映问题未根本解决"]
EXTENSION_REASONS = ["需协调跨部门资金", "施工受雨季影响", "涉及群众较多，需逐户做工作", "需等待上级审批"]
SH = govflow.DEFAULT_ZONE
LEVELS = {"county": "县 county", "township": "乡镇 township"}


class Simulation:
    """A seeded event queue over the flow: every step happens at its own moment on the fake clock."""

    def __init__(self, flow: govflow.Govflow, clock: FakeClock, seed: int) -> None:
        self.flow = flow
        self.clock = clock
        self.rnd = random.Random(seed)
        self.units: dict[str, Unit] = {}
        self.queue: list[tuple[dt.datetime, int, Callable[..., None], tuple[object, ...]]] = []
        self.order = itertools.count()
        self.counts: dict[str, int] = {}
        self.working = [d for d in _days(FIRST_DAY, LAST_DAY + dt.timedelta(days=90))
                        if flow.calendar.is_working_day(d)]
        self.index = {day: i for i, day in enumerate(self.working)}

    # -- working days and the queue -------------------------------------------------------------

    def workday(self, day: dt.date, offset: int) -> dt.date:
        """The working day ``offset`` working days after (before, if negative) ``day``'s working day."""
        while day not in self.index:
            day += dt.timedelta(days=1)
        return self.working[max(0, self.index[day] + offset)]

    def later(self, day: dt.date, offset: int, action: Callable[..., None], *args: object,
              hours: tuple[int, int] = (9, 17)) -> None:
        """Run ``action(*args)`` ``offset`` working days after ``day``, at a random time of the working day."""
        when = max(self.workday(day, offset), self.clock.now.date())  # nothing happens in the past
        if when > LAST_DAY:
            return  # after June: outside the simulation
        moment = dt.datetime(when.year, when.month, when.day, self.rnd.randint(*hours), self.rnd.randint(0, 59),
                             tzinfo=SH)
        if moment <= self.clock.now:  # later today, or the next working day after 17:00
            moment = self.clock.now + dt.timedelta(minutes=self.rnd.randint(5, 40))
            if moment.hour >= 17:
                return self.later(when, 1, action, *args, hours=(9, 11))
        heapq.heappush(self.queue, (moment, next(self.order), action, args))

    def tally(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def today(self) -> dt.date:
        return self.flow.now().date()

    # -- the units -------------------------------------------------------------------------------

    def add_units(self) -> None:
        flow = self.flow
        flow.add_unit(OFFICE, "大理州委督查室", level="prefecture", supervisor=True)
        for cid, cname, cprofile, chead, cstaff, towns in COUNTIES:
            flow.add_unit(cid, cname, level="county", parent=OFFICE)
            self.units[cid] = Unit(cid, cname, "county", OFFICE, cprofile, chead, cstaff)
            for tid, tname, tprofile, thead, tstaff in towns:
                flow.add_unit(tid, tname, level="township", parent=cid)
                self.units[tid] = Unit(tid, tname, "township", cid, tprofile, thead, tstaff)

    def siblings(self, unit: Unit) -> list[Unit]:
        return [u for u in self.units.values() if u.parent == unit.parent and u.id != unit.id]

    # -- the office assigns ----------------------------------------------------------------------

    def assign_day(self, day: dt.date) -> None:
        """Each working day from 08:00 the office assigns (交办) a few issues to each unit."""
        self.clock.set(dt.datetime(day.year, day.month, day.day, 8, tzinfo=SH))
        for unit in self.units.values():
            for _ in range(self.poisson(unit.profile.per_month / 21.0)):
                self.clock.advance(minutes=self.rnd.randint(1, 2))
                self.assign(unit, day)

    def poisson(self, mean: float) -> int:
        limit, count, product = 2.718281828459045 ** -mean, 0, self.rnd.random()
        while product > limit:
            count += 1
            product *= self.rnd.random()
        return count

    def assign(self, unit: Unit, day: dt.date) -> None:
        rnd = self.rnd
        category, problem = rnd.choice(PROBLEMS)
        place = unit.name.removeprefix(self.units[unit.parent].name) if unit.level == "township" else unit.name
        cooperating: list[str] = []
        if rnd.random() < 0.25:  # a county helps its township; a county asks one of its townships
            helpers = [unit.parent] if unit.level == "township" else [
                u.id for u in self.units.values() if u.parent == unit.id]
            cooperating.append(rnd.choice(helpers))
        days = rnd.choice((5, 10, 10, 15, 20))
        issue = self.flow.assign(
            f"{place}{problem}", lead=unit.id, due=govflow.working_days(days), by=OFFICE,
            cooperating=cooperating, countersign="none", category=category,
            responsible={"first": unit.first, "direct": rnd.choice(unit.direct)},
        )
        self.tally("assign")
        late_accept = rnd.random() < unit.profile.late_accept
        self.later(day, rnd.randint(2, 4) if late_accept else rnd.choice((0, 0, 1)), self.accept, issue.id)
        roll = rnd.random()
        if roll < 0.01:
            self.later(day, rnd.randint(1, 4), self.cancel, issue.id)
        elif roll < 0.025 and unit.level == "township":
            self.later(day, 1, self.reassign, issue.id, rnd.choice(self.siblings(unit)).id)
        else:
            self.plan(issue.id, day, issue.due)

    # -- the units work --------------------------------------------------------------------------

    def plan(self, issue_id: str, start: dt.date, due: dt.date, *, after_extension: bool = False) -> None:
        """Schedule the lead unit's 落实 and 反馈: on time, late, or after asking for more time."""
        unit = self.units[self.flow.get(issue_id).lead]
        rnd = self.rnd
        allowed = max(0, self.index[self.workday(due, 0)] - self.index[self.workday(start, 0)])
        if not after_extension and allowed >= 3 and rnd.random() < unit.profile.extension:
            self.later(due, -rnd.randint(1, 2), self.request_extension, issue_id)
            return
        if rnd.random() < unit.late_chance():
            offset = allowed + rnd.choice((1, 2, 3, 4, 6, 7, 9, 12, 15))  # 6+ working days late: 督办
        else:
            low, high = unit.profile.pace
            offset = max(1, round(allowed * rnd.uniform(low, high)))
        self.later(start, offset - rnd.choice((0, 0, 1)), self.implement, issue_id, hours=(9, 12))
        self.later(start, offset, self.report, issue_id, hours=(13, 17))

    def accept(self, issue_id: str) -> None:
        issue = self.flow.get(issue_id)
        if issue.state == "assigned" and issue.accepted_at is None:
            self.flow.accept(issue_id, by=issue.lead)
            self.tally("accept")

    def implement(self, issue_id: str) -> None:
        issue = self.flow.get(issue_id)
        if issue.state != "assigned":
            return
        if issue.accepted_at is None:  # a unit that never signed for it does so when it starts
            self.accept(issue_id)
        staff = self.units[issue.lead].direct
        named = issue.responsible.direct if issue.responsible else None
        person = named if named in staff else staff[0]  # after 改派 the new lead's own official acts
        self.flow.implement(issue_id, by=govflow.Actor(issue.lead, person), note=self.rnd.choice(MEASURES))
        self.tally("implement")

    def report(self, issue_id: str) -> None:
        issue = self.flow.get(issue_id)
        if issue.state == "assigned":
            self.implement(issue_id)
            issue = self.flow.get(issue_id)
        if issue.state != "implemented":
            return
        evidence = ["整改前后对比照片.jpg"] if self.rnd.random() < 0.7 else None
        self.flow.report(issue_id, by=issue.lead, result=self.rnd.choice(RESULTS), evidence=evidence)
        self.tally("report")
        self.later(self.today(), self.rnd.randint(1, 3), self.check, issue_id)

    def request_extension(self, issue_id: str) -> None:
        issue = self.flow.get(issue_id)
        if issue.state not in ("assigned", "implemented") or issue.extension is not None or self.today() > issue.due:
            return
        self.flow.request_extension(issue_id, by=issue.lead, due=govflow.working_days(self.rnd.choice((5, 10))),
                                    reason=self.rnd.choice(EXTENSION_REASONS))
        self.tally("request_extension")
        self.later(self.today(), 1, self.decide_extension, issue_id)

    # -- the office verifies ---------------------------------------------------------------------

    def decide_extension(self, issue_id: str) -> None:
        issue = self.flow.get(issue_id)
        if issue.extension is None or issue.state not in ("assigned", "implemented", "feedback"):
            return
        if self.rnd.random() < 0.85 and issue.extension.due >= self.today():
            granted = self.flow.approve_extension(issue_id, by=OFFICE, note="同意延期，请按新时限办结")
            self.tally("approve_extension")
            self.plan(issue_id, self.today(), granted.due, after_extension=True)
        else:
            self.flow.deny_extension(issue_id, by=OFFICE, reason="理由不充分，请按原时限办结")
            self.tally("deny_extension")
            self.plan(issue_id, self.today(), issue.due, after_extension=True)

    def check(self, issue_id: str) -> None:
        """验收: verify with a rating, or send it back (退回重办) with a new due date."""
        issue = self.flow.get(issue_id)
        if issue.state != "feedback":
            return
        unit = self.units[issue.lead]
        if self.rnd.random() < unit.profile.rejected * 0.5 ** issue.rework_count:
            days = self.rnd.choice((3, 5))
            back = self.flow.reject(issue_id, by=OFFICE, reason=self.rnd.choice(REJECTIONS),
                                    due=govflow.working_days(days))
            self.tally("reject")
            self.plan(issue_id, self.today(), back.due, after_extension=True)
        else:
            self.flow.verify(issue_id, by=OFFICE, rating=self.rnd.choice(unit.profile.ratings),
                             note="现场核查属实，予以销号")
            self.tally("verify")

    def cancel(self, issue_id: str) -> None:
        if self.flow.get(issue_id).state in ("assigned", "implemented", "feedback"):
            self.flow.cancel(issue_id, by=OFFICE, reason="与已交办事项重复，予以撤销")
            self.tally("cancel")

    def reassign(self, issue_id: str, new_lead: str) -> None:
        issue = self.flow.get(issue_id)
        if issue.state != "assigned":
            return
        self.flow.reassign(issue_id, by=OFFICE, new_lead=new_lead, reason="问题点位地处两镇交界，改由相邻乡镇牵头")
        self.tally("reassign")
        self.later(self.today(), self.rnd.choice((0, 1)), self.accept, issue_id)
        self.plan(issue_id, self.today(), issue.due)

    # -- the days --------------------------------------------------------------------------------

    def run(self) -> None:
        day = FIRST_DAY
        while day <= LAST_DAY:
            if day in self.index:
                self.assign_day(day)
                evening = dt.datetime(day.year, day.month, day.day, 18, tzinfo=SH)
                while self.queue and self.queue[0][0] < evening:
                    moment, _, action, args = heapq.heappop(self.queue)
                    self.clock.set(max(moment, self.clock.now))
                    action(*args)
                self.clock.set(evening)
                for event in self.flow.sweep():  # 临期提醒, 逾期, 催办, 督办, 约谈: each once
                    self.tally(event.step)
                    if event.step == "interview":
                        self.units[self.flow.get(event.issue_id).lead].interviews += 1
            day += dt.timedelta(days=1)


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def write_bulletin(flow: govflow.Govflow, out: Path) -> list[Path]:
    """The June bulletin in every format: zh in all of them, en in HTML and Markdown."""
    bulletin = flow.bulletin(PERIOD)
    stem = f"bulletin-{PERIOD}"
    written: list[Path] = []

    def save(name: str, content: str | bytes) -> None:
        path = out / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        written.append(path)

    for fmt, suffix in (("markdown", "md"), ("html", "html"), ("xlsx", "xlsx"), ("json", "json")):
        save(f"{stem}.zh.{suffix}", bulletin.render(fmt, lang="zh"))
    for name in CSV_TABLES:
        save(f"{stem}.zh.{name}.csv", bulletin.render("csv", lang="zh", table=name))
    for fmt, suffix in (("markdown", "md"), ("html", "html")):
        save(f"{stem}.en.{suffix}", bulletin.render(fmt, lang="en"))
    return written


def missing_extras() -> list[str]:
    """The packages of the ``bulletin`` extra that cannot be imported."""
    import importlib

    missing = []
    for name in ("matplotlib", "openpyxl"):
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("out", nargs="?", default="bulletin-out", type=Path,
                        help="directory for the bulletin files (default: ./bulletin-out)")
    parser.add_argument("--db", type=Path, help="the SQLite file to create (default: OUT/monthly_bulletin.sqlite3)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default: 2026)")
    args = parser.parse_args(argv)
    missing = missing_extras()
    if missing:  # say so now, not after minutes of simulation
        sys.exit(f"monthly_bulletin.py needs {' and '.join(missing)} (the bulletin extra): "
                 "pip install 'govflow[bulletin]'")
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    if args.db is None:
        db = out / "monthly_bulletin.sqlite3"
        for suffix in ("", "-wal", "-shm"):  # our own file from a previous run
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    else:
        db = args.db
        if db.exists():
            parser.error(f"{db} exists; give a new path for the SQLite file")

    started = time.perf_counter()
    clock = FakeClock(dt.datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day, 8, tzinfo=SH))
    with govflow.open(db, clock=clock, id_prefix="DL", delivery="manual") as flow:
        print(f"govflow {govflow.__version__} — 月收集、月通报 / monthly collection and bulletin")
        print(f"store 存储: SQLite {db}\n")
        sim = Simulation(flow, clock, args.seed)
        sim.add_units()
        sim.run()
        clock.set(dt.datetime(2026, 7, 1, 9, tzinfo=SH))  # the office writes June's bulletin on 1 July

        print(f"模拟 Simulated {FIRST_DAY} … {LAST_DAY}, seed {args.seed}:")
        labels = {**{s: govflow.STEP_LABELS[s]["zh"] for s in govflow.STEP_LABELS},
                  **{t: flow.label(t) for t in sim.counts if t not in govflow.STEP_LABELS}}
        print("  " + "  ".join(f"{labels[k]} {k} {v}" for k, v in sim.counts.items()))

        print("\n各单位画像 Unit profiles (hidden from govflow; the bulletin should find them out):")
        print(table(["单位 unit", "层级 level", "画像 profile", "约谈 interviews"],
                    [[u.name, LEVELS[u.level], u.profile.name, str(u.interviews)] for u in sim.units.values()]))

        print("\n2026 年度综合考评 Comprehensive evaluation (flow.evaluation(\"2026\")):")
        rows = [[flow.unit(e.unit).name, LEVELS.get(e.level, e.level), str(e.rank or "-"),
                 "-" if e.score is None else f"{e.score:.2f}", e.grade or "-", str(e.due), str(e.months)]
                for e in flow.evaluation("2026")]
        print(table(["单位 unit", "层级 level", "排名 rank", "得分 score", "等次 grade", "到期 due",
                     "月数 months"], rows))

        written = write_bulletin(flow, out)
        check = flow.verify_ledger()
        print(f"\n{PERIOD} 通报 Bulletin written to {out}/:")
        for path in written:
            print(f"  {path.name}  ({path.stat().st_size:,} bytes)")
        print(f"\n台账校验 Ledger verified: {check.entries} 条 entries, {check.issues} 个事项 issues, "
              f"chain head {check.head[:16]}…")
    print(f"用时 Took {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
