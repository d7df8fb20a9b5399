"""The public surface is what ``__all__`` says, and every name in it exists."""

from __future__ import annotations

import azurecr
import azurecr.aio


def test_all_names_exist_and_are_public() -> None:
    for module in (azurecr, azurecr.aio):
        assert sorted(module.__all__) == sorted(set(module.__all__))
        for name in module.__all__:
            assert not name.startswith("_")
            assert getattr(module, name).__module__.startswith(module.__name__.split(".")[0])


def test_sync_and_async_clients_share_their_names() -> None:
    assert azurecr.ContainerRegistryClient.__name__ == azurecr.aio.ContainerRegistryClient.__name__
    sync_api = {n for n in vars(azurecr.ContainerRegistryClient) if not n.startswith("_")}
    async_api = {n for n in vars(azurecr.aio.ContainerRegistryClient) if not n.startswith("_")}
    assert sync_api == async_api


def test_generated_models_do_not_leak() -> None:
    for module in (azurecr, azurecr.aio):
        for name in module.__all__:
            assert "_generated" not in getattr(module, name).__module__
