"""A selection (`graph.exports`) as a graph file for Gephi: GraphML, GEXF 1.3, or Gephi's
CSV edge table.

A node is named `Label:key` (`Seller:S0000012`) in every format: its id in GraphML and
GEXF, and the `Source` and `Target` of the CSV. Nodes carry `type` (the graph's label),
`key`, `caption` (the name a person reads; GEXF: the node's label) and the properties the
model declares for their label; edges carry `type` (the relationship type) and its properties. Two sellers
that hold the same identifier are joined by a `SHARES_IDENTIFIER` edge with its `kind`
(and the identifier's key when the reader may see it).

Text typed by sellers is untrusted: in XML it is escaped by the writer and characters XML
1.0 does not allow (control characters, lone surrogates) are dropped; in the CSV every
cell goes through `graph.csvsafe`, so a spreadsheet never runs it as a formula.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

from graph import csvsafe
from graph.exports import EXPORT_LABELS, Item, Selection
from graph.model import NODE_BY_LABEL, REL_BY_TYPE, PropType

SHARES = "SHARES_IDENTIFIER"
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"
GEXF_NS = "http://gexf.net/1.3"
_GRAPHML_TYPES: dict[PropType, str] = {"int": "long", "float": "double", "bool": "boolean"}
_GEXF_TYPES: dict[PropType, str] = {"int": "long", "float": "double", "bool": "boolean"}


def xml_text(value: Any) -> str:
    """A value as XML text: lists joined, booleans as `true`/`false`, characters XML
    does not allow dropped (escaping is the writer's)."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, list):
        text = ", ".join(str(v) for v in value)
    else:
        text = str(value)
    return _NOT_XML.sub("", text)


def node_name(ref: tuple[str, str]) -> str:
    return f"{ref[0]}:{ref[1]}"


def caption(i: Item) -> str:
    nt = NODE_BY_LABEL[i.label]
    for prop in nt.caption:
        if i.props.get(prop):
            return str(i.props[prop])
    return i.key


class Edge:
    """An edge as written: the relationship, or a shared identifier."""

    def __init__(self, type_: str, source: tuple[str, str], target: tuple[str, str],
                 props: dict[str, Any]) -> None:
        self.type, self.source, self.target, self.props = type_, source, target, props

    @property
    def id(self) -> str:
        return f"{node_name(self.source)}-{self.type}-{node_name(self.target)}"


def edges(selection: Selection) -> list[Edge]:
    out = [Edge(lk.type, lk.source, lk.target, lk.props) for lk in selection.links]
    for s in selection.shared:
        props = {"kind": s.kind} | ({"identifier": s.key} if s.key is not None else {})
        out.append(Edge(SHARES, ("Seller", s.a), ("Seller", s.b), props))
    seen: dict[str, Edge] = {}
    for e in out:  # two sellers sharing two phones: one edge, the first identifier
        seen.setdefault(e.id if e.type != SHARES else f"{e.id}-{e.props['kind']}", e)
    return list(seen.values())


def node_columns(selection: Selection) -> dict[str, PropType]:
    """Every node property the selection uses, with its type in the model."""
    columns: dict[str, PropType] = {}
    for i in selection.items:
        for prop in i.props:
            columns.setdefault(prop, NODE_BY_LABEL[i.label].properties[prop])
    return dict(sorted(columns.items()))


def edge_columns(all_edges: list[Edge]) -> dict[str, PropType]:
    columns: dict[str, PropType] = {}
    for e in all_edges:
        declared = REL_BY_TYPE[e.type].properties if e.type in REL_BY_TYPE else {}
        for prop in e.props:
            columns.setdefault(prop, declared.get(prop, "string"))
    return dict(sorted(columns.items()))


def _typed(value: Any, kind: PropType) -> str:
    if kind in ("int", "float") and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return xml_text(value)


FIXED = ("type", "key", "caption")
"""What every node carries besides its properties: its label as `type`, key and caption."""
if any(p in FIXED for lb in EXPORT_LABELS for p in NODE_BY_LABEL[lb].properties):
    raise RuntimeError(f"a node property is named like one of {FIXED}: rename the fixed attribute")


def _fixed_item(i: Item) -> dict[str, str]:
    return {"type": i.label, "key": xml_text(i.key), "caption": xml_text(caption(i))}


# --- GraphML --------------------------------------------------------------------------


def graphml(selection: Selection) -> bytes:
    ET.register_namespace("", GRAPHML_NS)
    root = ET.Element(f"{{{GRAPHML_NS}}}graphml")
    all_edges = edges(selection)
    ncols, ecols = node_columns(selection), edge_columns(all_edges)
    for name in FIXED:
        _key(root, f"n_{name}", "node", name, "string")
    for name, kind in ncols.items():
        _key(root, f"n_p_{name}", "node", name, _GRAPHML_TYPES.get(kind, "string"))
    _key(root, "e_type", "edge", "type", "string")
    for name, kind in ecols.items():
        _key(root, f"e_p_{name}", "edge", name, _GRAPHML_TYPES.get(kind, "string"))
    graph = ET.SubElement(root, f"{{{GRAPHML_NS}}}graph", id=xml_text(selection.name),
                          edgedefault="directed")
    for i in selection.items:
        n = ET.SubElement(graph, f"{{{GRAPHML_NS}}}node", id=xml_text(node_name(i.ref)))
        for name, value in _fixed_item(i).items():
            _data(n, f"n_{name}", value)
        for name, value in i.props.items():
            _data(n, f"n_p_{name}", _typed(value, ncols[name]))
    for e in all_edges:
        el = ET.SubElement(graph, f"{{{GRAPHML_NS}}}edge", id=xml_text(e.id),
                           source=xml_text(node_name(e.source)), target=xml_text(node_name(e.target)))
        _data(el, "e_type", e.type)
        for name, value in e.props.items():
            _data(el, f"e_p_{name}", _typed(value, ecols[name]))
    return _serialise(root)


def _key(root: ET.Element, id_: str, for_: str, name: str, type_: str) -> None:
    ET.SubElement(root, f"{{{GRAPHML_NS}}}key", {"id": id_, "for": for_, "attr.name": name,
                                                 "attr.type": type_})


def _data(parent: ET.Element, key: str, value: str) -> None:
    ET.SubElement(parent, f"{{{GRAPHML_NS}}}data", key=key).text = value


def _serialise(root: ET.Element) -> bytes:
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


# --- GEXF -----------------------------------------------------------------------------


def gexf(selection: Selection) -> bytes:
    ET.register_namespace("", GEXF_NS)
    root = ET.Element(f"{{{GEXF_NS}}}gexf", version="1.3")
    meta = ET.SubElement(root, f"{{{GEXF_NS}}}meta")
    ET.SubElement(meta, f"{{{GEXF_NS}}}creator").text = "Alliance Graph"
    ET.SubElement(meta, f"{{{GEXF_NS}}}description").text = xml_text(selection.name)
    graph = ET.SubElement(root, f"{{{GEXF_NS}}}graph", defaultedgetype="directed", mode="static")
    all_edges = edges(selection)
    ncols, ecols = node_columns(selection), edge_columns(all_edges)
    nattrs = {"type": "string", "key": "string", **{n: _GEXF_TYPES.get(k, "string")
                                                      for n, k in ncols.items()}}
    eattrs = {"type": "string", **{n: _GEXF_TYPES.get(k, "string") for n, k in ecols.items()}}
    _attributes(graph, "node", nattrs)
    _attributes(graph, "edge", eattrs)
    nindex = {name: str(k) for k, name in enumerate(nattrs)}
    eindex = {name: str(k) for k, name in enumerate(eattrs)}
    nodes = ET.SubElement(graph, f"{{{GEXF_NS}}}nodes")
    for i in selection.items:
        n = ET.SubElement(nodes, f"{{{GEXF_NS}}}node", id=xml_text(node_name(i.ref)),
                          label=xml_text(caption(i)))
        values = {"type": i.label, "key": xml_text(i.key)} | {
            name: _typed(value, ncols[name]) for name, value in i.props.items()}
        _attvalues(n, nindex, values)
    edges_el = ET.SubElement(graph, f"{{{GEXF_NS}}}edges")
    for e in all_edges:
        el = ET.SubElement(edges_el, f"{{{GEXF_NS}}}edge", id=xml_text(e.id),
                           source=xml_text(node_name(e.source)), target=xml_text(node_name(e.target)),
                           label=e.type)
        _attvalues(el, eindex, {"type": e.type} | {
            name: _typed(value, ecols[name]) for name, value in e.props.items()})
    return _serialise(root)


def _attributes(graph: ET.Element, class_: str, attrs: dict[str, str]) -> None:
    el = ET.SubElement(graph, f"{{{GEXF_NS}}}attributes", {"class": class_, "mode": "static"})
    for k, (name, type_) in enumerate(attrs.items()):
        ET.SubElement(el, f"{{{GEXF_NS}}}attribute", id=str(k), title=name, type=type_)


def _attvalues(parent: ET.Element, index: dict[str, str], values: dict[str, str]) -> None:
    el = ET.SubElement(parent, f"{{{GEXF_NS}}}attvalues")
    for name, value in values.items():
        ET.SubElement(el, f"{{{GEXF_NS}}}attvalue", {"for": index[name], "value": value})


# --- Gephi CSV ------------------------------------------------------------------------


GEPHI_COLUMNS = ("Source", "Target", "Type", "Id", "Label", "Weight")


def gephi_csv(selection: Selection) -> Iterator[str]:
    """Gephi's edge table: `Source,Target,Type,Id,Label,Weight` then the edge properties;
    `Label` is the relationship type, `Type` always `Directed`; nodes named `Label:key`."""
    all_edges = edges(selection)
    ecols = list(edge_columns(all_edges))
    header: list[csvsafe.Cell] = [*GEPHI_COLUMNS, *ecols]
    rows: list[list[csvsafe.Cell]] = [header]
    for e in all_edges:
        rows.append([node_name(e.source), node_name(e.target), "Directed", e.id, e.type, 1,
                     *(_csv_value(e.props.get(c)) for c in ecols)])
    return csvsafe.lines(rows)


def _csv_value(value: Any) -> csvsafe.Cell:
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


__all__ = ["graphml", "gexf", "gephi_csv", "node_name", "xml_text"]
