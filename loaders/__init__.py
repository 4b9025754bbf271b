"""Alliance Graph: loaders.

Public API::

    from loaders import load_paths
    report = load_paths(driver, database, ["bundle/"], source="platform-x",
                        rejects_path="rejects.jsonl")

`load_paths(driver, database, paths, *, source, batch_size=1000, strict=False,
encoding="auto", rejects_path=None, pii_key=None, progress=None) -> RunReport`
loads bundle folders or single files (CSV or JSONL, data contract section 1).
Every row is loaded or written to the rejects file with its line and reasons;
`report.files[i]` has read / loaded / rejected per file, `report.run_id` names the
`IngestRun` node. Raises `UnusableInput` (one sentence) for input that cannot be used.
`pii_key` defaults to `alliance.settings.get_settings().pii_key()`; `progress` is
called as progress(file name, rows read so far).
"""

from loaders.pipeline import FileReport, RunReport, load_paths
from loaders.read import UnusableInput

__all__ = ["FileReport", "RunReport", "UnusableInput", "load_paths"]
