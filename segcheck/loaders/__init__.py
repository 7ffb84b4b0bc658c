"""Loaders: topology files and, under `configs/`, firewall configurations that supply permits."""
