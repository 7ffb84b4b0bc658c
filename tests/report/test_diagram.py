"""The topology diagram: deterministic DOT, clean SVG, witness paths in red, no Graphviz."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import pytest

from segcheck.errors import SegcheckError
from segcheck.report import diagram

from .conftest import SAMPLE_YAML, assert_golden, check_report, sample_topology

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz (dot) not installed")


def test_dot_is_deterministic_and_golden() -> None:
    report = check_report()
    text = diagram.build_dot(report.topology, report.findings, "en")
    assert text == diagram.build_dot(check_report().topology, check_report().findings, "en")
    assert_golden("check.en.dot", text)


def test_witness_path_edges_are_red() -> None:
    report = check_report()
    text = diagram.build_dot(report.topology, report.findings)
    red = [line for line in text.splitlines() if "--" in line and diagram.HIGHLIGHT in line]
    assert '  "node:lg-term-01" -- "zone:lg" [color="#d00000", penwidth=3];' in red
    assert any('"node:fw-core" -- "zone:inet"' in line for line in red)
    # the excepted path (mn-atena > lgwan) is not a finding and stays grey
    assert not any('"node:lgwan-rtr" -- "zone:lgwan"' in line for line in red)


def test_quote_defuses_dot_escapes() -> None:
    assert diagram.quote('a"b\\N\nc') == '"a\\"b\\\\N\\nc"'


@needs_dot
def test_svg_is_clean_and_deterministic() -> None:
    report = check_report()
    svg = diagram.render_svg(report.topology, report.findings)
    assert svg.startswith("<svg") and "<!--" not in svg and "<?xml" not in svg
    assert svg == diagram.render_svg(report.topology, report.findings)
    root = ET.fromstring(svg)
    strokes = {el.get("stroke") for el in root.iter() if el.get("stroke")}
    assert diagram.HIGHLIGHT in strokes


@needs_dot
def test_markup_in_names_stays_text() -> None:
    yaml_text = SAMPLE_YAML.replace("mn-term-01:", '"<script>alert(1)</script>":')
    topo = sample_topology(yaml_text)
    svg = diagram.render_svg(topo)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    ET.fromstring(svg)


def test_missing_graphviz_says_how_to_install(monkeypatch) -> None:
    monkeypatch.setattr(diagram, "find_dot", lambda: None)
    with pytest.raises(SegcheckError, match="Graphviz is not installed: apt-get install graphviz"):
        diagram.render_svg(check_report().topology)
    assert not diagram.dot_available()
