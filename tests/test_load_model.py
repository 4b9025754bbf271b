"""Every contract property in graph/model.py comes from an input field or is derived."""

from graph.model import NODE_BY_LABEL, NODES
from loaders.mapping import MAIN
from loaders.validate import FILES, ROW_MODELS, validate

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


FIELD_TYPES = {"str": "string", "country": "string", "adcode": "string", "date": "date",
               "bool": "bool", "float": "float", "int": "int", "list": "list"}


def test_file_fields_have_the_model_property_types() -> None:
    """Each file's pydantic model (generated from FILES) gives every property of the
    file's node the type graph/model.py declares."""
    wrong = []
    for file, label in MAIN.items():
        node = NODE_BY_LABEL[label]
        for name, (kind, _) in FILES[file].items():
            if name not in node.properties:
                continue
            given = "string" if kind.startswith("enum:") else FIELD_TYPES.get(kind, kind)
            if given != node.properties[name]:
                wrong.append(f"{file}.{name}: {kind} for {label}.{name} {node.properties[name]}")
    assert wrong == []


def test_row_models_validate_every_file() -> None:
    assert set(ROW_MODELS) == set(FILES)
    clean, reasons = validate("listings", {"listing_id": "L1", "shop_id": "SH1", "price": "9.9",
                                           "blocked_at_upload": "是", "first_seen": "2024-01-02"})
    assert reasons == []
    assert clean["price"] == 9.9 and clean["blocked_at_upload"] is True
    assert str(clean["first_seen"]) == "2024-01-02"
