"""Path analysis of planned topologies (networkx is imported in `graph.py` only)."""
