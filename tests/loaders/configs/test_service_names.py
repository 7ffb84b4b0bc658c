"""Device services named as segcheck service atoms: exact cells, catalogue names kept."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segcheck.loaders.configs.model import TCP, UDP, ServiceSet
from segcheck.loaders.configs.permits import ServiceNamer, catalogue_set
from segcheck.model import ANY_SERVICE
from segcheck.services import BUILTIN_SERVICES

port_range = st.tuples(st.sampled_from([TCP, UDP]), st.integers(1, 120), st.integers(0, 30)).map(
    lambda t: (t[0], t[1], min(65535, t[1] + t[2]))
)
service_sets = st.lists(port_range, min_size=1, max_size=3).map(ServiceSet.of)


def covered(namer: ServiceNamer, names: tuple[str, ...]) -> ServiceSet:
    total = ServiceSet()
    for name in names:
        svc = namer.new_services.get(name) or BUILTIN_SERVICES[name]
        total = total.union(catalogue_set(svc))
    return total


@pytest.mark.slow  # a property/oracle test: seconds to minutes; CI runs it
@settings(max_examples=200, deadline=None)
@given(st.lists(service_sets, min_size=1, max_size=6))
def test_cells_are_exact_and_shared(sets: list[ServiceSet]) -> None:
    namer = ServiceNamer(BUILTIN_SERVICES)
    for ss in sets:
        namer.register(ss)
    namer.finalize()
    cells = [catalogue_set(s) for s in namer.new_services.values()]
    for i, a in enumerate(cells):  # the cells partition the uncatalogued ports
        assert not a.intersection(namer.named)
        for b in cells[i + 1 :]:
            assert not a.intersection(b)
    for ss in sets:
        names = namer.names(ss)
        got = covered(namer, names)
        # every port of the device service is covered; beyond it only whole catalogue services
        assert not ss.difference(got)
        assert got.difference(ss).difference(namer.named) == ServiceSet()


def test_a_device_service_overlapping_a_catalogue_one_takes_its_name() -> None:
    namer = ServiceNamer(BUILTIN_SERVICES)
    tcp_rdp = ServiceSet.ports(TCP, (3389, 3389))
    wide = ServiceSet.ports(TCP, (8000, 8999))
    for ss in (tcp_rdp, wide):
        namer.register(ss)
    namer.finalize()
    assert namer.names(tcp_rdp) == ("rdp",)
    names = namer.names(wide)
    # 8080 (http-proxy), 8443 (blast), 8530-8531 (wsus) keep their names; the rest is one cell
    assert set(names) == {
        "http-proxy",
        "blast",
        "wsus",
        "tcp/8000-8079,8081-8442,8444-8529,8532-8999",
    }
    assert namer.names(ServiceSet.everything()) == (ANY_SERVICE,)
