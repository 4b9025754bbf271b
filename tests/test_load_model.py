"""Every contract property in graph/model.py comes from an input field or is derived."""

from graph.model import NODES
from loaders.mapping import MAIN
from loaders.validate import FILES

DERIVED = {
    ("Identity", "kind"), ("Phone", "region"), ("Phone", "raw_forms"),
    ("PaymentAccount", "provider"), ("Device", "kind"), ("Division", "name"),
    ("Division", "level"), ("Shipment", "shipment_id"),
    *(("Address", p) for p in ("raw", "normalized", "province", "city", "district", "adcode")),
    *(("IngestRun", p) for p in ("source", "started_at", "finished_at", "counts")),
    # written by the API's lead and case mutations
    ("Lead", "title"), ("Lead", "note"), ("Lead", "created_by"), ("Case", "seized_value_cny"),
}
KEY_ONLY = {"Identity", "Phone", "Email", "PaymentAccount", "Device", "Address", "Division",
            "IngestRun"}


def test_every_model_property_has_an_origin() -> None:
    files_of = {label: file for file, label in MAIN.items()}
    missing = []
    for node in NODES:
        if not node.contract:
            continue
        fields = set(FILES[files_of[node.label]]) if node.label in files_of else set()
        for prop in (node.key, *node.properties):
            if prop not in fields and (node.label, prop) not in DERIVED and not (
                    node.label in KEY_ONLY and prop == node.key):
                missing.append(f"{node.label}.{prop}")
    assert missing == []
