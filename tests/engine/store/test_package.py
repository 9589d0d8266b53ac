"""The store wing states its public names, and opening a store imports no more than it needs."""

from __future__ import annotations

import subprocess
import sys

import boflyt.engine.store as store_wing


def test_every_public_name_of_the_wing_resolves_to_its_module() -> None:
    for name in store_wing.__all__:
        value = getattr(store_wing, name)
        assert getattr(value, "__module__", "boflyt.engine.store").startswith("boflyt."), name
    assert store_wing.inbox.__module__ == "boflyt.engine.store.commands"  # the checked one
    assert sorted(store_wing.__all__, key=str.lower) == sorted(
        set(store_wing.__all__), key=str.lower
    )


def test_importing_the_engine_factory_loads_neither_the_commands_nor_polars() -> None:
    code = (
        "import sys, boflyt.engine.store.db; "
        "print('boflyt.engine.store.commands' in sys.modules, 'polars' in sys.modules)"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.split() == ["False", "False"]
