"""The composition root: builds every dependency from settings, once per process."""

from __future__ import annotations

import contextlib
import logging
import threading

from agents.budget import Budget, parse_prices
from agents.embedders import DEFAULT_EMBEDDER, choose, get_embedder
from agents.llm import ModelRunner, ModelTiers
from agents.mailer import Mailer, OutboxMailer, SmtpMailer
from bot.caches import router_cache_dir
from bot.job_registry import JOBS as JOB_REGISTRY
from bot.secret_values import protect
from bot.settings import Settings, load_settings
from graphs.conversation import Conversation, JobNames
from graphs.deps import Deps
from graphs.model_parser import ModelParser
from graphs.offline_parser import OfflineParser
from graphs.offline_parsing.router import shipped_router
from graphs.parsing import IntentParser
from graphs.playbooks import load_playbooks, use_playbooks
from graphs.supervisor import Supervisor
from store.checkpoints import open_checkpointer
from store.clock import Clock
from store.facade import Store
from store.jobqueue import InProcessQueue, JobQueue, RQQueue
from store.working_memory import InProcessWorkingMemory, RedisWorkingMemory

log = logging.getLogger(__name__)

JOBS = JobNames(
    run=JOB_REGISTRY["run"].func, resume=JOB_REGISTRY["resume"].func, send_retry=JOB_REGISTRY["send_retry"].func
)


def build_parser(settings: Settings, runner: ModelRunner) -> IntentParser:
    # The offline tier's semantic router loads its model on the first message no rule reads.
    offline = OfflineParser(shipped_router(router_cache_dir()))
    if runner.tiers.is_offline("small"):
        return offline
    return ModelParser(runner, offline)


def build_mailer(settings: Settings) -> Mailer:
    if settings.smtp_url:
        return SmtpMailer(settings.smtp_url, settings.sender_address)
    return OutboxMailer(settings.outbox_dir, settings.sender_address)


class Runtime:
    """Everything one process needs; close() releases connections and threads."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None, queue: JobQueue | None = None) -> None:
        self.settings = settings
        protect(settings)  # before anything can log or store a token
        # Every process plans with the same playbooks: built-ins plus the operator's own.
        use_playbooks(load_playbooks(*settings.playbook_dirs))
        self.store = Store.open(settings.database, clock or Clock(settings.timezone))
        self.queue: JobQueue = queue or (
            RQQueue(settings.redis_url) if settings.redis_url else InProcessQueue(self.store.clock)
        )
        self.tiers = ModelTiers(
            {"small": settings.model_small, "mid": settings.model_mid, "large": settings.model_large}
        )
        budget = Budget(
            self.store.db,
            self.store.clock,
            self.store.autonomy_rules,
            daily=settings.daily_cost_cap,
            monthly=settings.monthly_cost_cap,
            prices=parse_prices(settings.model_prices),
        )
        self.runner = ModelRunner(self.tiers, self.store.model_cache, self.store.ledger, budget)
        embedder = choose(settings.embedder, self.store.memory.embedded_with())
        get_embedder(embedder)  # an embedder that can't run here stops the start with its reason
        if embedder != DEFAULT_EMBEDDER and not settings.embedder:
            log.warning(
                "the memory was embedded with %s: keeping it; `coo memory reembed` moves it to %s "
                "(better recall; README: Memory)",
                embedder,
                DEFAULT_EMBEDDER,
            )
        self.deps = Deps(
            store=self.store,
            runner=self.runner,
            mailer=build_mailer(settings),
            sender_name=settings.sender_name,
            embedder_name=settings.embedder,
            working_memory=RedisWorkingMemory(settings.redis_url) if settings.redis_url else InProcessWorkingMemory(),
            report_weekday=settings.report_weekday,
            large_review_over=settings.large_review_over,
        )
        self._exit = contextlib.ExitStack()
        checkpointer = self._exit.enter_context(open_checkpointer(self.store.db))
        self.supervisor = Supervisor(self.deps, checkpointer)
        self.parser = build_parser(settings, self.runner)
        self.conversation = Conversation(self.deps, self.parser, self.queue, JOBS)

    def close(self) -> None:
        self.queue.close()
        self._exit.close()
        self.store.close()


_current: Runtime | None = None
_lock = threading.Lock()


def use_runtime(runtime: Runtime | None) -> None:
    """Install the process's runtime (the CLI and tests do; RQ workers build their own)."""
    global _current
    _current = runtime


def get_runtime() -> Runtime:
    global _current
    with _lock:
        if _current is None:
            _current = Runtime(load_settings())
        return _current
