"""A topology node whose permits come from its firewall configuration (spec §2 `config:`)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from segcheck.cli import main
from segcheck.engine import check

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "topologies" / "alpha-fortigate.yaml"
CONFIG = ROOT / "topologies" / "configs" / "fw-lg-inet.conf"
TODAY = date(2026, 11, 22)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def edit_line(config: Path, policy: int) -> int:
    lines = config.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.strip() == f"edit {policy}")


def copy_example(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "configs").mkdir()
    shutil.copy(EXAMPLE, tmp_path / EXAMPLE.name)
    shutil.copy(CONFIG, tmp_path / "configs" / CONFIG.name)
    return tmp_path / EXAMPLE.name, tmp_path / "configs" / CONFIG.name


def test_the_example_finds_the_leftover_maintenance_policy_at_its_line() -> None:
    report = check(EXAMPLE, today=TODAY)
    assert [(f.rule, f.permits) for f in report.findings] == [("LG-INET-SPLIT", ("root/90",))]
    (finding,) = report.findings
    assert Path(finding.location.path).resolve() == CONFIG.resolve()
    assert finding.location.line == edit_line(CONFIG, 90)
    assert finding.remediation is not None
    # policy 90 also lets lg-fin reach the screen-transfer pool (sanitized): narrow it
    assert finding.remediation.narrow_permits == ("root/90",)
    assert finding.remediation.remove_permits == ()
    # one device rule however many permits (cubes) the import split it into: one plan step,
    # and applying it (every cube of root/90 gone) leaves the town clean on re-check
    assert report.plan is not None and report.plan.verified
    assert [(s.kind.value, s.target, s.node) for s in report.plan.steps] == [
        ("narrow-permit", "root/90", "fw-lg-inet")
    ]
    config_input = [i for i in report.inputs if i.kind == "config"]
    assert [i.sha256 for i in config_input] == [hashlib.sha256(CONFIG.read_bytes()).hexdigest()]
    (imported,) = report.topology.imports
    assert (imported.node, imported.context, imported.status) == ("fw-lg-inet", "root", "passed")
    assert imported.disabled == ("root/95",)
    # the node's addresses come from the configuration's interfaces in the plan's zones
    node = report.topology.nodes["fw-lg-inet"]
    assert sorted(str(ip) for ip in node.addresses) == ["10.2.0.3", "10.3.0.3"]


def test_removing_the_policy_from_the_device_leaves_the_town_clean(tmp_path: Path) -> None:
    topology, config = copy_example(tmp_path)
    text = config.read_text(encoding="utf-8")
    start = text.index("    edit 90\n")
    end = text.index("    next\n", start) + len("    next\n")
    config.write_text(text[:start] + text[end:], encoding="utf-8")
    report = check(topology, today=TODAY)
    assert report.findings == ()
    assert {f.channel for f in report.excepted} == {c.id for c in report.topology.channels}


def test_json_and_sarif_point_into_the_configuration() -> None:
    code, out, _ = run("check", str(EXAMPLE), "--format", "json", "--today", "2026-11-22")
    assert code == 1
    doc = json.loads(out)
    assert [i["kind"] for i in doc["inputs"]] == ["topology", "config"]
    assert doc["imports"][0]["disabled"] == ["root/95"]
    assert doc["findings"][0]["permits"] == ["root/90"]
    code, out, _ = run("check", str(EXAMPLE), "--format", "sarif", "--today", "2026-11-22")
    log = json.loads(out)
    run_ = log["runs"][0]
    uris = [a["location"]["uri"] for a in run_["artifacts"]]
    assert any(u.endswith("configs/fw-lg-inet.conf") for u in uris)
    physical = run_["results"][0]["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"].endswith("configs/fw-lg-inet.conf")
    assert physical["region"]["startLine"] == edit_line(CONFIG, 90)


def test_import_output_loads_as_the_same_permits(tmp_path: Path) -> None:
    """What `segcheck import` prints, pasted in place of `config:`, gives the same findings."""
    code, out, err = run("import", "fortios", str(CONFIG))
    assert code == 0, err
    assert "passed" in err and "root/95" in err
    node_block = out[out.index('  "fw-lg-inet":') :]
    node_block = re.sub(r"\n    config: \{[^\n]*\}", "", node_block)
    # the management interface is outside the plan: keep the two tier legs
    node_block = node_block.replace(
        '"10.2.0.3", "10.3.0.3", "192.168.1.99"', '"10.2.0.3", "10.3.0.3"'
    )
    original = EXAMPLE.read_text(encoding="utf-8")
    start = original.index("  fw-lg-inet:\n")
    end = original.index("  # -- インターネット接続系")
    converted = (
        original[:start]
        + node_block.replace('  "fw-lg-inet":', "  fw-lg-inet:")
        + "\n"
        + original[end:]
    )
    path = tmp_path / "converted.yaml"
    path.write_text(converted, encoding="utf-8")
    report = check(path, today=TODAY)
    assert [(f.rule, f.src, f.dst, f.permits) for f in report.findings] == [
        (f.rule, f.src, f.dst, f.permits) for f in check(EXAMPLE, today=TODAY).findings
    ]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("{file: configs/missing.conf, format: fortios}", "missing.conf: no such file"),
        ("{file: configs/fw-lg-inet.conf, format: fortigate}", "unknown format 'fortigate'"),
        ("{file: configs/fw-lg-inet.conf, format: fortios, vdom: dmz}", "vdom 'dmz'"),
        ("{format: fortios}", "missing required key 'file'"),
        ("{file: configs/fw-lg-inet.conf, format: fortios, vdom: root, vsys: vsys1}", "one of"),
    ],
)
def test_bad_config_references_are_input_errors(tmp_path: Path, config: str, message: str) -> None:
    topology, _ = copy_example(tmp_path)
    text = topology.read_text(encoding="utf-8").replace(
        "config: {file: configs/fw-lg-inet.conf, format: fortios, vdom: root}", f"config: {config}"
    )
    topology.write_text(text, encoding="utf-8")
    code, out, err = run("check", str(topology))
    assert code == 2
    assert message in err and "Traceback" not in err + out
    assert err.startswith("Error: ")


def test_strict_import_refuses_a_partly_recognised_configuration(tmp_path: Path) -> None:
    config = tmp_path / "fw.conf"
    config.write_text(
        CONFIG.read_text(encoding="utf-8")
        + "config firewall gibberish-block\n    frobnicate 1\nend\n",
        encoding="utf-8",
    )
    code, _, err = run("import", "fortios", str(config))
    assert code == 0 and "partly-recognised" in err
    code, _, err = run("import", "fortios", "--strict", str(config))
    assert code == 2 and "--strict" in err


def test_a_policy_on_the_wrong_interface_is_listed_apart_from_shadowed(tmp_path: Path) -> None:
    """Addresses that are not behind the policy's interfaces: no flow can match it, and no
    deny is the cause, so the status says so rather than calling it shadowed."""
    config = tmp_path / "fw.conf"
    wrong_side = (
        "config firewall policy\n    edit 15\n"
        '        set srcintf "ZONE-INET"\n        set dstintf "ZONE-LGWAN"\n'
        '        set action accept\n        set srcaddr "LG-CLIENTS"\n'
        '        set dstaddr "LG-MAIL"\n        set schedule "always"\n'
        '        set service "SMTP"\n    next\n'
    )
    config.write_text(
        CONFIG.read_text(encoding="utf-8").replace("config firewall policy\n", wrong_side, 1),
        encoding="utf-8",
    )
    code, out, err = run("import", "fortios", str(config))
    assert code == 0, err
    lines = err.splitlines()
    nothing = next(line for line in lines if "matching no address behind" in line)
    assert nothing.endswith(": root/15")
    assert not any("covered by earlier denies" in line for line in lines)
    assert '{id: "root/15"' not in out


@pytest.mark.parametrize("fmt", ["fortios", "panos", "nftables", "csv"])
def test_import_of_a_binary_file_is_exit_2_naming_file_and_line(tmp_path: Path, fmt: str) -> None:
    bad = tmp_path / "fw.conf"
    bad.write_bytes(b"hello\x00world\n")
    code, out, err = run("import", fmt, str(bad))
    assert code == 2 and out == ""
    assert err.startswith(f"Error: {bad}:1: ") and "Traceback" not in err
    code, _, err = run("import", fmt, str(tmp_path / "missing.conf"))
    assert code == 2 and "missing.conf: no such file" in err


@pytest.mark.parametrize(
    ("lang", "heading", "disabled"),
    [
        ("en", "Firewall configurations read", "disabled rules"),
        ("ja", "読み込んだファイアウォール設定", "無効なルール"),
    ],
)
def test_html_report_shows_each_configurations_import_status(
    lang: str, heading: str, disabled: str
) -> None:
    code, out, err = run(
        "check", str(EXAMPLE), "--format", "html", "--lang", lang, "--today", "2026-11-22"
    )
    assert code == 1, err
    section = out[out.index(f"<h2>{heading}</h2>") :]
    section = section[: section.index("</table>")]
    assert "configs/fw-lg-inet.conf (fortios" in section and "fw-lg-inet" in section
    assert re.search(disabled + r"[^<]* \(1\): root/95", section)
    # a topology without `config:` has no such section
    _, plain, _ = run("check", str(ROOT / "topologies" / "alpha.yaml"), "--format", "html")
    assert heading not in plain
