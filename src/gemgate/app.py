"""The composition root: builds stores, engines and services, and mounts the routers.

Nothing else wires components together; everything hangs off objects built here.
"""

from __future__ import annotations

import asyncio
import gc
import ipaddress
import logging
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.engine import Engine

from gemgate.api.admin import ADMIN_PREFIX, admin_router
from gemgate.api.caches import caches_router
from gemgate.api.errors import install_error_handlers
from gemgate.api.files import files_router
from gemgate.api.gemini import GeminiDeps, gemini_router, model_action_route
from gemgate.api.health import health_router
from gemgate.api.openai import OPENAI_PREFIX, OpenAIDeps, openai_router
from gemgate.api.timing import ServerTiming
from gemgate.api.uploads import uploads_router
from gemgate.config import (
    DeploymentSettings,
    EmbeddingModelSettings,
    LocalModelSettings,
    Settings,
)
from gemgate.core.ports import Counters, ResponseCache
from gemgate.engines.embeddings.provider import EmbeddingModelSpec, LocalEmbedders
from gemgate.engines.llamacpp.engine import EngineOptions
from gemgate.engines.llamacpp.provider import LocalEngines, LocalModelSpec
from gemgate.engines.relay.build import UpstreamSpec, build_upstream
from gemgate.engines.sandbox.isolation import Limits
from gemgate.engines.sandbox.runner import build_runner
from gemgate.jobs.sweeper import sweep_forever
from gemgate.services.accounting import Accountant
from gemgate.services.caches import CacheService
from gemgate.services.code_execution import CodeExecution
from gemgate.services.embeddings import EmbeddingService
from gemgate.services.files import FileLimits, FileService
from gemgate.services.generation import GenerationService
from gemgate.services.keys import KeyService, hash_secret
from gemgate.services.media import MediaResolver
from gemgate.services.models import EmbeddingModel, LocalModel, ModelRegistry
from gemgate.services.pricing import Price, Pricing
from gemgate.services.quotas import QuotaService
from gemgate.services.relaying import Relay
from gemgate.services.routing import Deployment, RetryPolicy, Router, Target
from gemgate.services.signatures import Signer
from gemgate.services.uploads import UploadService
from gemgate.services.usage import UsageLedger
from gemgate.store.blobs import DiskBlobStore
from gemgate.store.caches import SqlCachedContentStore
from gemgate.store.counters import MemoryCounters
from gemgate.store.database import PoolOptions, connect, open_database
from gemgate.store.files import SqlFileStore
from gemgate.store.keys import SqlKeyStore
from gemgate.store.pins import SqlPinStore
from gemgate.store.redis_counters import RedisCounters
from gemgate.store.redis_responses import RedisResponseCache
from gemgate.store.responses import MemoryResponseCache
from gemgate.store.secrets import load_or_create_secret, read_secret
from gemgate.store.usage import SqlUsageStore

GEMINI_PREFIXES = ("", "/gemini")
GEMINI_VERSIONS = ("/v1", "/v1beta", "/v1alpha", "")

log = logging.getLogger("gemgate")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def connect_configured_database(settings: Settings) -> Engine:
    """The configured database as it is (no migration)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return connect(settings.sql_url, _pool(settings))


def open_configured_database(settings: Settings) -> Engine:
    """The configured database, migrated to the newest revision."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return open_database(settings.sql_url, _pool(settings))


def _pool(settings: Settings) -> PoolOptions:
    return PoolOptions(settings.database_pool_size, settings.database_max_overflow)


def load_signing_secret(settings: Settings) -> bytes:
    """Replicas share the secret through a setting or a mounted file, or a signature made by
    one would not verify on another; a single process keeps its own under the data dir."""
    if settings.signing_secret is not None:
        return settings.signing_secret.get_secret_value().encode("utf-8")
    if settings.signing_secret_file is not None:
        return read_secret(settings.signing_secret_file)
    return load_or_create_secret(settings.data_dir / "signing.key")


def _response_cache(settings: Settings, redis: Redis | None) -> ResponseCache:
    ttl, size = settings.response_cache_ttl_seconds, settings.response_cache_max_entries
    if redis is not None:
        return RedisResponseCache(redis, ttl, size, prefix=f"{settings.redis_key_prefix}:responses")
    return MemoryResponseCache(ttl, size)


def build_usage_store(settings: Settings, database: Engine | None = None) -> SqlUsageStore:
    return SqlUsageStore(database or open_configured_database(settings))


def _counters(settings: Settings, redis: Redis | None) -> Counters:
    if redis is not None:
        return RedisCounters(redis, f"{settings.redis_key_prefix}:counters:")
    return MemoryCounters()


def _accountant(
    settings: Settings, database: Engine, redis: Redis | None
) -> tuple[Accountant, Counters]:
    store = build_usage_store(settings, database)
    ledger = UsageLedger(store, settings.ledger_flush_ms / 1000, settings.ledger_batch_rows)
    counters = _counters(settings, redis)
    prices = {
        model: Price(p.input_per_million, p.output_per_million, p.cached_input_fraction)
        for model, p in settings.prices.items()
    }
    pricing = Pricing(prices, settings.cached_input_fraction)
    return Accountant(QuotaService(counters, store), ledger, pricing), counters


def build_key_service(settings: Settings, database: Engine | None = None) -> KeyService:
    store = SqlKeyStore(database or open_configured_database(settings))
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
        handoff_interval=settings.stream_interval_ms / 1000,
    )
    path = Path(model.path).expanduser() if model.path else None
    return LocalModelSpec(id=model.id, options=options, path=path, bundled=model.bundled)


def _embedding_spec(model: EmbeddingModelSettings) -> EmbeddingModelSpec:
    path = Path(model.path).expanduser() if model.path else None
    return EmbeddingModelSpec(model.id, model.max_input_tokens, path=path, bundled=model.bundled)


def _embedding_model(model: EmbeddingModelSettings) -> EmbeddingModel:
    return EmbeddingModel(
        model.id, model.display_name or model.id, model.description, model.max_input_tokens
    )


def _warm_embeddings(settings: Settings, embedders: LocalEmbedders) -> asyncio.Task[object] | None:
    """Loads the first embedding model in the background: readiness does not wait for it."""
    if not settings.embedding_warmup or not settings.embedding_models:
        return None
    task: asyncio.Task[object] = asyncio.create_task(
        embedders.embedder(settings.embedding_models[0].id)
    )

    def report(done: asyncio.Task[object]) -> None:
        if not done.cancelled() and done.exception() is not None:
            log.warning("embedding model warm-up failed: %s", done.exception())

    task.add_done_callback(report)
    return task


def _upstream_spec(deployment: DeploymentSettings) -> UpstreamSpec:
    credentials = deployment.credentials_file
    return UpstreamSpec(
        name=deployment.name,
        kind=deployment.kind,
        base_url=deployment.base_url,
        api_key=deployment.key(),
        api_version=deployment.api_version,
        project=deployment.project,
        location=deployment.location,
        credentials_file=Path(credentials).expanduser() if credentials else None,
        token_uri=deployment.token_uri,
        max_concurrency=deployment.max_concurrency,
        timeout_seconds=deployment.timeout_seconds,
        connect_timeout_seconds=deployment.connect_timeout_seconds,
    )


def build_relay(settings: Settings, database: Engine, files: FileService) -> Relay | None:
    """The routing table's deployments and targets; None when nothing is relayed."""
    if not settings.routes:
        return None
    deployments = [
        Deployment(d.name, build_upstream(_upstream_spec(d)), d.max_concurrency)
        for d in settings.deployments
    ]
    routes = {
        model: [Target(t.deployment, t.model or model, t.weight, t.priority) for t in targets]
        for model, targets in settings.routes.items()
    }
    r = settings.retry
    policy = RetryPolicy(
        r.max_attempts,
        r.backoff_initial_seconds,
        r.backoff_max_seconds,
        r.retry_after_max_seconds,
        r.eject_after_failures,
        r.eject_seconds,
    )
    return Relay(Router(deployments, routes, policy), SqlPinStore(database), files)


def build_code_execution(settings: Settings, files: FileService) -> CodeExecution | None:
    if not settings.code_execution_enabled:
        return None
    limits = Limits(
        wall_seconds=settings.code_execution_wall_seconds,
        cpu_seconds=settings.code_execution_cpu_seconds,
        memory_bytes=settings.code_execution_memory_mib * 1024**2,
        processes=settings.code_execution_max_processes,
        output_bytes=settings.code_execution_output_bytes,
        workdir_bytes=settings.code_execution_workdir_mib * 1024**2,
    )
    base = settings.code_execution_uid_base
    uids = range(base, base + settings.code_execution_concurrency)
    runner = build_runner(limits, settings.code_execution_isolation, uids)
    log.info("code execution: isolation %s", runner.isolation)
    return CodeExecution(runner, settings.code_execution_max_rounds, files)


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
        local,
        settings.aliases,
        settings.default_model,
        settings.default_thinking_budgets,
        embedding_models=[_embedding_model(m) for m in settings.embedding_models],
        embedding_aliases=settings.embedding_aliases,
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
    database = open_configured_database(settings)
    keys = build_key_service(settings, database)
    signer = Signer(load_signing_secret(settings))
    # One client per process (it pools its connections); it connects on first use.
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    responses = _response_cache(settings, redis)
    file_store, blobs = SqlFileStore(database), DiskBlobStore(settings.blob_root)
    files = FileService(file_store, blobs)
    limits = FileLimits(
        settings.max_file_bytes, settings.max_project_file_bytes, settings.file_ttl_seconds
    )
    uploads = UploadService(file_store, blobs, limits)
    media = MediaResolver(files, settings.max_document_bytes)
    relay = build_relay(settings, database, files)
    caches = CacheService(
        SqlCachedContentStore(database),
        registry,
        engines,
        settings.cache_min_tokens,
        media=media,
        relay=relay,
    )
    generation = GenerationService(
        registry,
        engines,
        signer,
        caches,
        responses,
        stream_interval=settings.stream_interval_ms / 1000,
        media=media,
        relay=relay,
        code=build_code_execution(settings, files),
    )
    embedders = LocalEmbedders(
        [_embedding_spec(m) for m in settings.embedding_models],
        n_threads=settings.n_threads,
        max_batch=settings.embedding_max_batch,
    )
    embeddings = EmbeddingService(registry, embedders, relay)
    accountant, counters = _accountant(settings, database, redis)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        accountant.ledger.start()
        for model_id in dict.fromkeys([settings.default_model, *settings.preload]):
            await engines.engine(model_id)
        sweeper = asyncio.create_task(sweep_forever(caches.sweep, settings.cache_sweep_seconds))
        file_sweepers = [
            asyncio.create_task(sweep_forever(sweep, settings.file_sweep_seconds))
            for sweep in (files.sweep, uploads.sweep)
        ]
        warm_up = _warm_embeddings(settings, embedders)
        # Everything built so far lives as long as the process: keep it out of the cyclic
        # collector's full passes, which otherwise stall every request in flight.
        gc.freeze()
        yield
        sweeper.cancel()
        for task in file_sweepers:
            task.cancel()
        if warm_up is not None:
            warm_up.cancel()
        embedders.close()
        if relay is not None:
            await relay.aclose()
        await engines.aclose()
        await accountant.ledger.aclose()  # every metered request's row is written
        await counters.aclose()
        if redis is not None:
            await redis.aclose()
        database.dispose()
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
        registry,
        generation,
        keys,
        settings.max_request_bytes,
        accountant,
        created=int(time.time()),
        embeddings=embeddings,
    )
    # Before the Gemini routers: at /v1 the OpenAI models routes match only OpenAI callers.
    app.include_router(openai_router(openai_deps, shared_root=True), prefix="/v1")
    app.include_router(openai_router(openai_deps), prefix=OPENAI_PREFIX)
    gemini_deps = GeminiDeps(
        registry,
        generation,
        keys,
        settings.max_request_bytes,
        accountant,
        embeddings=embeddings,
        relay=relay,
    )
    router = gemini_router(gemini_deps)
    cache_routes = caches_router(caches, keys, settings.max_request_bytes)
    file_routes = files_router(files, keys)
    upload_routes = uploads_router(uploads, keys, settings.max_request_bytes)
    if settings.admin_key:
        app.include_router(
            admin_router(keys, accountant.ledger, hash_secret(settings.admin_key)),
            prefix=ADMIN_PREFIX,
        )
    for prefix in GEMINI_PREFIXES:
        for version in GEMINI_VERSIONS:
            app.include_router(router, prefix=prefix + version)
            app.include_router(cache_routes, prefix=prefix + version)
            app.include_router(file_routes, prefix=prefix + version)
            app.include_router(upload_routes, prefix=prefix + "/upload" + version)
    # Ahead of every other route: one regular expression for all prefixes and versions.
    prefixes = [prefix + version for prefix in GEMINI_PREFIXES for version in GEMINI_VERSIONS]
    app.router.routes.insert(0, model_action_route(gemini_deps, prefixes))
    return app
