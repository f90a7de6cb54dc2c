"""Check the hash chain of a govflow SQLite ledger (台账) with nothing but the standard library.

    python audit_ledger.py flow.sqlite3

Prints "OK: ..." and exits 0, or "BAD entry N ...: problem" for the first bad entry and exits 1.
"""

import hashlib
import json
import sqlite3
import sys
from datetime import datetime

FIELDS = ("seq", "issue_id", "issue_seq", "trigger", "from_state", "to_state",
          "actor", "person", "at", "data", "prev_hash")


def audit(db: sqlite3.Connection) -> str:
    prev_hash, seq = "0" * 64, 0
    for row in db.execute(f"SELECT {', '.join(FIELDS)}, hash FROM ledger ORDER BY seq"):
        entry, stored_hash = dict(zip(FIELDS, row[:-1], strict=True)), row[-1]
        seq += 1
        bad = f"BAD entry {seq} (issue {entry['issue_id']})"
        if entry["seq"] != seq:
            return f"{bad}: entry {entry['seq']} found in its place: entries were removed"
        if entry["prev_hash"] != prev_hash:
            return f"{bad}: prev_hash is not the hash of the entry before it"
        try:
            entry["data"] = json.loads(entry["data"])
            canonical_data = json.dumps(entry["data"], sort_keys=True, separators=(",", ":"),
                                        ensure_ascii=False, allow_nan=False)
            canonical_at = datetime.fromisoformat(entry["at"]).isoformat()
        except ValueError as exc:
            return f"{bad}: its data or time does not parse ({exc})"
        if canonical_data != row[FIELDS.index("data")] or canonical_at != entry["at"]:
            # Readers of the stored text (SQL's json_extract) must see what the hash covers.
            return f"{bad}: its stored text is not the canonical encoding"
        canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if hashlib.sha256(canonical.encode("utf-8")).hexdigest() != stored_hash:
            return f"{bad}: its contents do not match its hash"
        prev_hash = stored_hash
    head_seq, head_hash = db.execute("SELECT seq, hash FROM chain_head").fetchone()
    if (head_seq, head_hash) != (seq, prev_hash):
        return (f"BAD entry {min(head_seq, seq + 1)}: the chain head names entry {head_seq} "
                f"as the last, but the ledger ends at entry {seq}")
    return f"OK: {seq} entries, head {prev_hash}"


if __name__ == "__main__":
    path = sys.argv[1]
    quoted = path.replace("%", "%25").replace("?", "%3f").replace("#", "%23")
    db = sqlite3.connect(f"file:{quoted}?mode=ro", uri=True)  # read-only: the audit changes no row
    try:
        verdict = audit(db)
    finally:
        db.close()
    print(verdict)
    sys.exit(0 if verdict.startswith("OK") else 1)
