"""Child process of the crash-safety test: edits a reading until it is killed.

``python reading_crash_child.py DB STUDY_UID`` starts a reading and adds marks one by
one through ``ReadingStore.save``; after each save returns it prints ``saved N`` (N marks
stored) and flushes, so the parent knows what was committed before it sends SIGKILL.
"""

from __future__ import annotations

import sys
from dataclasses import replace

from reading.model import Mark
from reading.store import ReadingStore


def main(db_path: str, study_uid: str) -> None:
    store = ReadingStore(db_path)
    reading = store.start(study_uid, "crash-reader", "cxr", blinded=True)
    print("started", reading.reading_id, flush=True)
    n = 0
    while True:  # until killed
        mark = Mark(id=f"m{n}", sop_instance_uid="1.2.3.4", frame=0, shape="box",
                    points=((n % 200, 10.0), (n % 200 + 5.0, 20.0)), label="nodule_mass")
        reading = replace(reading, marks=(*reading.marks, mark), text=f"{n + 1} marks")
        store.save(reading, "mark_added", {"mark_id": mark.id})
        n += 1
        print("saved", n, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
