"""Firewall configuration import: vendor parsers → `model.ParsedConfig` → compiled permits."""
