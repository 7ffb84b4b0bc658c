"""Regenerate the nftables fixtures beside this file (needs root, `ip` and `nft`).

Each ruleset is loaded into a fresh network namespace with `nft -f` and read back with
`nft -j list ruleset`, exactly as an engineer would export a firewall's ruleset:

- `town-fw-core.json`: lab/town.yaml's firewall through lab/nftgen.py;
- `alpha-<node>.json`: each firewall of topologies/alpha.yaml through lab/nftgen.py;
- `dualstack-fw-ds.json`: `dualstack.yaml` beside this file (an `any` side, ICMP, IPv6);
- `features.json` (and `features.pretty.json`, the same indented): `features.nft`, a hand-written
  ruleset using every construct the importer reads.

    sudo python3 tests/data/configs/nftables/regen.py

The round-trip test (tests/loaders/configs/test_nftables_roundtrip.py) uses `nft_json` below.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[3]


class NftUnavailable(RuntimeError):
    """Not root, no `ip`/`nft`, or no network namespaces: why the ruleset cannot be loaded."""


def _run(argv: list[str], stdin: str | None = None) -> str:
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip() or done.returncode}")
    return done.stdout


def nft_available() -> str | None:
    """None when rulesets can be loaded here, else the reason they cannot."""
    if os.geteuid() != 0:
        return "needs root (network namespaces and nft)"
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (apt-get install iproute2 nftables)"
    return None


def nft_json(ruleset: str) -> str:
    """`nft -j list ruleset` after `nft -f` of `ruleset` in a fresh namespace (removed after)."""
    reason = nft_available()
    if reason is not None:
        raise NftUnavailable(reason)
    ns = f"segcheck-nft-{os.getpid()}-{secrets.token_hex(3)}"
    try:
        _run(["ip", "netns", "add", ns])
    except RuntimeError as exc:
        raise NftUnavailable(f"cannot create a network namespace: {exc}") from None
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".nft", encoding="utf-8") as f:
            f.write(ruleset)
            f.flush()
            _run(["ip", "netns", "exec", ns, "nft", "-f", f.name])
        return _run(["ip", "netns", "exec", ns, "nft", "-j", "list", "ruleset"])
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=60)


def generated(topology_path: Path) -> dict[str, str]:
    """nftgen's ruleset of each firewall of a topology, by node name."""
    sys.path.insert(0, str(REPO))
    from lab import nftgen
    from segcheck import load_topology

    topology = load_topology(topology_path)
    shown = topology_path.relative_to(REPO).as_posix()
    return {fw: nftgen.ruleset(topology, fw, shown) for fw in nftgen.firewalls(topology)}


def main() -> int:
    reason = nft_available()
    if reason is not None:
        print(f"regen.py: {reason}", file=sys.stderr)
        return 2
    outputs: dict[str, str] = {}
    outputs["town-fw-core.json"] = nft_json(generated(REPO / "lab" / "town.yaml")["fw-core"])
    for fw, text in generated(REPO / "topologies" / "alpha.yaml").items():
        outputs[f"alpha-{fw}.json"] = nft_json(text)
    outputs["dualstack-fw-ds.json"] = nft_json(generated(HERE / "dualstack.yaml")["fw-ds"])
    features = nft_json((HERE / "features.nft").read_text(encoding="utf-8"))
    outputs["features.json"] = features
    outputs["features.pretty.json"] = json.dumps(json.loads(features), indent=4) + "\n"
    for name, text in outputs.items():
        (HERE / name).write_text(text, encoding="utf-8")
        print(f"wrote {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
