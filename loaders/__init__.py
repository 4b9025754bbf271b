"""Alliance Graph: loaders.

Public API::

    from loaders import load_paths
    report = load_paths(driver, database, ["bundle/"], source="platform-x",
                        rejects_path="rejects.jsonl")

`load_paths(driver, database, paths, *, source, batch_size=1000, strict=False,
encoding="auto", rejects_path=None, pii_key=None, progress=None) -> RunReport`
loads bundle folders or single files (CSV or JSONL, data contract section 1).
Every row is loaded or written to the rejects file with its line and reasons: the file
named by `rejects_path`, else ALLIANCE_HOME/rejects/<run id>.jsonl (created at the first
rejected row, mode 0600); `report.rejects_path` says which, None if no row was rejected
and none was named. A field longer than `loaders.read.FIELD_LIMIT` characters (1 Mi)
rejects its row. `report.files[i]` has read / loaded / rejected per file,
`report.run_id` names the `IngestRun` node. Every file is read whole before anything is
written: input that cannot be used (a line that does not decode, a file mixing encodings,
no header, an unknown file) raises `UnusableInput` (one sentence naming the file and
line) and nothing is written. If the database stops answering, the driver's error
(`neo4j.exceptions.ServiceUnavailable` ...) propagates: the batches committed before stay,
the run is not recorded, and loading the same input again completes it.
`pii_key` defaults to `core.settings.get_settings().pii_key()`; `progress` is
called as progress(file name, rows read so far).
"""

from loaders.pipeline import FileReport, RunReport, load_paths
from loaders.read import UnusableInput

__all__ = ["FileReport", "RunReport", "UnusableInput", "load_paths"]
