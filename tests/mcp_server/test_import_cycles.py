"""No import cycles in mcp_server/ and toolkits/, between any two modules, a package's `__init__` included.

Every import counts: at the top of a module, inside a function, under `TYPE_CHECKING`. The import-linter
contract in pyproject.toml (`acyclic_siblings`) forbids cycles between sibling modules and packages; this test
also sees the cycles it cannot, through a package's `__init__` (a child importing its own package).
"""

from __future__ import annotations

import grimp

PACKAGES = ("mcp_server", "toolkits")


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Each group of modules that import one another round in a circle (a strongly connected component of two
    or more), every group and its modules sorted."""
    order: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in order:
            continue
        # Tarjan's algorithm, iterative: a module and the imports of it still to visit
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        order[root] = lowest[root] = len(order)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, imports = work[-1]
            imported = next(imports, None)
            if imported is None:
                work.pop()
                if work:
                    lowest[work[-1][0]] = min(lowest[work[-1][0]], lowest[module])
                if lowest[module] == order[module]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == module:
                            break
                    if len(group) > 1:
                        cycles.append(sorted(group))
            elif imported not in order:
                order[imported] = lowest[imported] = len(order)
                stack.append(imported)
                on_stack.add(imported)
                work.append((imported, iter(sorted(graph.find_modules_directly_imported_by(imported)))))
            elif imported in on_stack:
                lowest[module] = min(lowest[module], order[imported])
    return sorted(cycles)


def describe(graph: grimp.ImportGraph, group: list[str]) -> str:
    members = set(group)
    lines = [f"a cycle of {len(group)} modules:"]
    for module in group:
        for imported in sorted(graph.find_modules_directly_imported_by(module) & members):
            at = [str(d["line_number"]) for d in graph.get_import_details(importer=module, imported=imported)]
            lines.append(f"  {module} -> {imported} (line {', '.join(at)})")
    return "\n".join(lines)


def test_mcp_server_and_toolkits_have_no_import_cycle() -> None:
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False, cache_dir=None)
    assert len(graph.modules) > 100  # the whole tree was read
    cycles = import_cycles(graph)
    assert not cycles, "\n".join(describe(graph, group) for group in cycles)


def test_a_cycle_through_a_package_init_is_found_and_named() -> None:
    graph = grimp.ImportGraph()
    graph.add_import(importer="pkg", imported="pkg.child", line_number=3, line_contents="from pkg import child")
    graph.add_import(importer="pkg.child", imported="pkg.other", line_number=5, line_contents="import pkg.other")
    graph.add_import(importer="pkg.other", imported="pkg", line_number=9, line_contents="import pkg")
    graph.add_import(importer="pkg.other", imported="pkg.leaf", line_number=2, line_contents="import pkg.leaf")
    cycles = import_cycles(graph)
    assert cycles == [["pkg", "pkg.child", "pkg.other"]]
    assert "pkg.other -> pkg (line 9)" in describe(graph, cycles[0])
