"""report.html: self-contained, escaped, bilingual, with a note when Graphviz is missing."""

from __future__ import annotations

import re
import shutil

import pytest

from segcheck.report import diagram, html, render
from segcheck.report.labels import labels

from .conftest import SAMPLE_YAML, assert_golden, check_report, sample_topology, scan_report

STUB_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><g id="stub"/></svg>'
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz (dot) not installed")


@pytest.mark.parametrize("build", [check_report, scan_report])
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_golden(build, lang) -> None:
    # A fixed SVG keeps the golden file independent of the Graphviz version.
    report = build()
    assert_golden(f"{report.command}.{lang}.html", html.render_page(report, lang, STUB_SVG))


@pytest.mark.parametrize("build", [check_report, scan_report])
def test_self_contained(build) -> None:
    page = html.render_page(build(), "en", STUB_SVG)
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page
    assert "@page { size: A4" in page


def test_content_security_policy_allows_only_inline_css() -> None:
    page = html.render_page(check_report(), "en", STUB_SVG)
    head = page[: page.index("</head>")]
    (policy,) = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', head)
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives == {
        "default-src": "'none'",
        "style-src": "'unsafe-inline'",
        "base-uri": "'none'",
        "form-action": "'none'",
    }
    # It comes before anything it governs: right after the charset.
    assert head.index("Content-Security-Policy") < head.index("<style>")


def test_sections_and_languages() -> None:
    en = html.render_page(check_report(), "en", STUB_SVG)
    ja = html.render_page(check_report(), "ja", STUB_SVG)
    for page in (en, ja):
        for section in ("cover", "matrix", "diagram", "findings", "channels", "rules"):
            assert f'id="{section}"' in page
        assert "lg-term-01</span><span>fw-core</span><span>inet-mail" in page
        assert '<tr class="expired"><td>CH-2</td>' in page
        assert check_report().topology.source.sha256 in page
    assert "Policy matrix by tier pair" in en and "Channel register" in en
    assert "系統間の通信ポリシー" in ja and "例外(特定通信)一覧" in ja and "Findings" not in ja
    assert 'lang="ja"' in ja


def test_policy_matrix_marks_tier_pairs_with_findings() -> None:
    rows = html._policy_matrix(check_report(), labels("en", "html"))
    by_pair = {
        (row["tier"].value, dst): c
        for row in rows
        for dst, c in zip([r["tier"].value for r in rows], row["cells"], strict=True)
    }
    assert by_pair[("lgwan", "internet")]["css"] == "violation"
    assert by_pair[("mynumber", "lgwan-network")]["css"] == "excepted"
    assert by_pair[("lgwan", "lgwan")]["css"] == "allow"
    assert by_pair[("internet", "lgwan")]["css"] == "restricted"


def test_capture_section_has_zone_matrix_with_marked_cells() -> None:
    page = html.render_page(scan_report(), "en", STUB_SVG)
    assert 'id="captures"' in page and "truncated record" in page
    assert '<td class="violation">1 / 3400</td>' in page


def test_markup_from_the_topology_renders_as_text() -> None:
    evil = "<script>alert(1)</script>"
    yaml_text = SAMPLE_YAML.replace("mn-term-01:", f'"{evil}":').replace(
        "reason: 中間サーバーへの副本登録", f'reason: "{evil}"'
    )
    report = check_report(sample_topology(yaml_text))
    page = html.render_page(report, "en", STUB_SVG)
    assert evil not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@needs_dot
def test_markup_in_real_diagram_renders_as_text() -> None:
    evil = "<script>alert(1)</script>"
    yaml_text = SAMPLE_YAML.replace("mn-term-01:", f'"{evil}":')
    page = render(check_report(sample_topology(yaml_text)), "html", "en")
    assert "<script" not in page and "<svg" in page


def test_without_graphviz_a_note_replaces_the_diagram(monkeypatch) -> None:
    monkeypatch.setattr(diagram, "find_dot", lambda: None)
    page = render(check_report(), "html", "en")
    assert 'id="diagram-missing"' in page
    assert "Graphviz is not installed: apt-get install graphviz" in page
    assert "<svg" not in page
