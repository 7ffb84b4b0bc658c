"""Render iron-skillet's full PAN-OS and Panorama XML templates with the EDL rules included.

iron-skillet's loadable XML configurations are rendered with INCLUDE_PAN_EDL=no (no security
rules), while its loadable set-command files contain the two EDL block rules. To compare the two
forms of one configuration, the XML templates are rendered here with the template defaults
(`.meta-cnc.yaml`) and INCLUDE_PAN_EDL=yes, MGMT_TYPE/PANORAMA_TYPE=static. The administrator
password hash is replaced by a placeholder. Run once by hand (needs jinja2 and PyYAML):

    python3 render_iron_skillet.py /path/to/iron-skillet
"""

from __future__ import annotations

import sys
from pathlib import Path

import jinja2
import yaml

TEMPLATES = {
    "templates/panos/full": ("iron_skillet_panos_full.xml", "iron_skillet_panos_full_edl.xml"),
    "templates/panorama/full": (
        "iron_skillet_panorama_full.xml",
        "iron_skillet_panorama_full_edl.xml",
    ),
}


def main(checkout: Path) -> None:
    here = Path(__file__).parent
    for folder, (template, output) in TEMPLATES.items():
        meta = yaml.safe_load((checkout / folder / ".meta-cnc.yaml").read_text())
        values = {v["name"]: v.get("default") for v in meta.get("variables", [])}
        values.update(INCLUDE_PAN_EDL="yes", MGMT_TYPE="static", PANORAMA_TYPE="static")
        env = jinja2.Environment(keep_trailing_newline=True)
        env.filters["md5_hash"] = lambda _value: "PLACEHOLDER-HASH"
        text = env.from_string((checkout / folder / template).read_text()).render(values)
        (here / output).write_text(text)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
