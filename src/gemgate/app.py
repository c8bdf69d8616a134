"""The composition root: builds stores, engines and services, and mounts the routers.

Nothing else wires components together; everything hangs off objects built here.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from gemgate.api.caches import caches_router
from gemgate.api.errors import install_error_handlers
from gemgate.api.gemini import GeminiDeps, gemini_router
from gemgate.api.health import health_router
from gemgate.api.openai import OPENAI_PREFIX, OpenAIDeps, openai_router
from gemgate.api.timing import ServerTiming
from gemgate.config import LocalModelSettings, Settings
from gemgate.engines.llamacpp.engine import EngineOptions
from gemgate.engines.llamacpp.provider import LocalEngines, LocalModelSpec
from gemgate.jobs.sweeper import sweep_forever
from gemgate.services.caches import CacheService
from gemgate.services.generation import GenerationService
from gemgate.services.keys import KeyService
from gemgate.services.models import LocalModel, ModelRegistry
from gemgate.services.response_cache import ResponseCache
from gemgate.services.signatures import Signer
from gemgate.store.caches import SqlCachedContentStore
from gemgate.store.database import open_database
from gemgate.store.keys import SqlKeyStore
from gemgate.store.secrets import load_or_create_secret

GEMINI_PREFIXES = ("", "/gemini")
GEMINI_VERSIONS = ("/v1", "/v1beta", "/v1alpha", "")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _database(settings: Settings) -> Engine:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return open_database(settings.database_url)


def build_key_service(settings: Settings, database: Engine | None = None) -> KeyService:
    store = SqlKeyStore(database or _database(settings))
    open_when_keyless = is_loopback(settings.host) or settings.no_auth
    return KeyService(store, open_when_keyless=open_when_keyless)


def _engine_spec(model: LocalModelSettings, settings: Settings) -> LocalModelSpec:
    options = EngineOptions(
        context_tokens=model.context_tokens,
        n_parallel=settings.n_parallel,
        n_threads=settings.n_threads,
        prompt_cache_mib=settings.prompt_cache_mib,
        chat_template=model.chat_template,
        log_level=settings.engine_log_level,
        native_reasoning=model.native_reasoning,
        state_dir=settings.data_dir / "kv" / model.id,
    )
    path = Path(model.path).expanduser() if model.path else None
    return LocalModelSpec(id=model.id, options=options, path=path, bundled=model.bundled)


def build_registry(settings: Settings) -> ModelRegistry:
    local = [
        LocalModel(
            id=m.id,
            display_name=m.display_name or m.id,
            description=m.description,
            context_tokens=m.context_tokens,
            max_output_tokens=m.max_output_tokens,
            thinking_levels=dict(m.thinking_levels),
        )
        for m in settings.models
    ]
    return ModelRegistry(
        local, settings.aliases, settings.default_model, settings.default_thinking_budgets
    )


def create_app(settings: Settings) -> FastAPI:
    registry = build_registry(settings)
    executor = ThreadPoolExecutor(
        max_workers=settings.max_concurrent_requests, thread_name_prefix="gemgate-engine"
    )
    engines = LocalEngines(
        [_engine_spec(m, settings) for m in settings.models],
        executor,
        cache_dir=settings.data_dir / "models",
    )
    database = _database(settings)
    keys = build_key_service(settings, database)
    signer = Signer(load_or_create_secret(settings.data_dir / "signing.key"))
    caches = CacheService(
        SqlCachedContentStore(database), registry, engines, settings.cache_min_tokens
    )
    responses = ResponseCache(
        settings.response_cache_ttl_seconds, settings.response_cache_max_entries
    )
    generation = GenerationService(registry, engines, signer, caches, responses)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for model_id in dict.fromkeys([settings.default_model, *settings.preload]):
            await engines.engine(model_id)
        sweeper = asyncio.create_task(sweep_forever(caches.sweep, settings.cache_sweep_seconds))
        yield
        sweeper.cancel()
        await engines.aclose()
        executor.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        title="gemgate", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    install_error_handlers(app)
    app.add_middleware(ServerTiming)
    app.include_router(
        health_router(
            settings.default_model,
            lambda: {name: e.busy_slots() for name, e in engines.loaded().items()},
        )
    )
    openai_deps = OpenAIDeps(
        registry, generation, keys, settings.max_request_bytes, created=int(time.time())
    )
    # Before the Gemini routers: at /v1 the OpenAI models routes match only OpenAI callers.
    app.include_router(openai_router(openai_deps, shared_root=True), prefix="/v1")
    app.include_router(openai_router(openai_deps), prefix=OPENAI_PREFIX)
    router = gemini_router(GeminiDeps(registry, generation, keys, settings.max_request_bytes))
    cache_routes = caches_router(caches, keys, settings.max_request_bytes)
    for prefix in GEMINI_PREFIXES:
        for version in GEMINI_VERSIONS:
            app.include_router(router, prefix=prefix + version)
            app.include_router(cache_routes, prefix=prefix + version)
    return app
