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


def test_only_causes_are_red() -> None:
    report = check_report()
    text = diagram.build_dot(report.topology, report.findings)
    lines = text.splitlines()
    red = [line for line in lines if diagram.HIGHLIGHT in line]
    # the bridging router and its legs into the two tiers it joins
    assert '  "zone:mn" -- "node:hoshu-rtr" [color="#d00000", penwidth=3];' in red
    assert '  "node:hoshu-rtr" -- "zone:lg" [color="#d00000", penwidth=3];' in red
    assert any(line.startswith('  "node:hoshu-rtr" [') for line in red)
    # the firewall whose permit opens a finding, with the permit beside it
    fw = next(line for line in red if line.startswith('  "node:fw-core" ['))
    assert "⚠ FW-40" in fw
    # not the hosts or switches on the example routes, nor the excepted path
    assert not any('"node:lg-term-01"' in line or "lgwan-rtr" in line for line in red)
    assert not any('"node:fw-core" --' in line or '-- "node:fw-core"' in line for line in red)


def test_tiers_stand_side_by_side() -> None:
    """Columns left to right: My Number, LGWAN-connected (LGWAN with it), Internet."""
    text = diagram.build_dot(check_report().topology, check_report().findings, "ja")
    columns = [line for line in text.splitlines() if line.startswith("  subgraph column_")]
    assert [c.split()[1] for c in columns] == ["column_1", "column_2", "column_3", "column_4"]
    order = text.index('"zone:mn" [')
    assert order < text.index('"zone:lg" [') < text.index('"zone:inet" [')
    assert text.index('"zone:lg" [') < text.index('"zone:lgwan" [') < text.index("column_3")
    assert '"zone:mn" -- "zone:lg" [style=invis' in text
    assert "マイナンバー利用事務系" in text


def test_quote_defuses_dot_escapes() -> None:
    assert diagram.quote('a"b\\N\nc') == '"a\\"b\\\\N\\nc"'


@needs_dot
@pytest.mark.usefixtures("real_dot")  # Graphviz's own determinism: two real layouts
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
