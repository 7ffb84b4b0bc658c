"""Loaders: topology files (`topology.py`, over the line-numbered YAML/JSON reader in
`yamldoc.py`) and, under `configs/`, firewall configurations that supply permits."""
