"""schemathesis's own run (``st run``'s engine and report) over an app served in-process.

One runner for every test that fuzzes /openapi.json: the whole API (``test_openapi.py``) and the
signed-in runs over one family of routes (``test_follows.py``, ``test_library.py``), so that they
all run schemathesis the same way, with every check enabled as an outside fuzzer runs them.
"""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any


def run_schemathesis(app: Any, examples: int, headers: dict[str, str] | None = None,
                     include: dict[str, str] | None = None, home: Path | None = None
                     ) -> tuple[int, str, list[str]]:
    """Fuzz the operations of ``app`` (those ``include`` selects, as ``schema.include(**include)``:
    ``path_regex=``, ``tag=``, ...) with ``examples`` examples per operation and phase, sending
    ``headers`` (credentials); ``home``: where hypothesis keeps its caches (not the working tree).
    Returns (exit code, the report, the checks run)."""
    import schemathesis
    from hypothesis.configuration import set_hypothesis_home_dir
    from schemathesis.checks import CHECKS, load_all_checks
    from schemathesis.cli.commands.run.context import ExecutionContext
    from schemathesis.cli.commands.run.handlers.output import OutputHandler
    from schemathesis.cli.events import LoadingFinished, LoadingStarted
    from schemathesis.cli.executor import execute_event_loop
    from schemathesis.engine import from_schema

    config = schemathesis.Config.from_dict({
        "color": False,
        # "data generation is too slow" says the machine is busy (a loaded CI runner), not that the API is wrong
        "suppress-health-check": ["too_slow"],
        "cache": {"enabled": False},  # no .schemathesis/ in the tree
        "generation": {"max-examples": examples, "deterministic": True, "database": "none"},
        "checks": {"enabled": True},  # every check with its defaults, as an outside fuzzer runs them
        "headers": headers or {},
    })
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    if include:
        schema = schema.include(**include)
    schemathesis.deserializer("application/x-bibtex")(lambda ctx, response: response.content.decode())
    load_all_checks()
    checks = sorted(name for name in CHECKS.get_all_names() if schema.config.checks.get_by_name(name=name).enabled)

    def events() -> Any:
        started = LoadingStarted(location="/openapi.json")
        yield started
        yield LoadingFinished.from_schema(schema, location="/openapi.json", start_time=started.timestamp,
                                          base_url=schema.get_base_url())
        yield from from_schema(schema).execute()

    out = io.StringIO()
    if home is not None:
        set_hypothesis_home_dir(home)
    try:
        with redirect_stdout(out):
            try:
                execute_event_loop(events(), config=schema.config, args=[], params={},
                                   output_handler=OutputHandler(config=schema.config),
                                   context_factory=lambda c: ExecutionContext(config=c, startup_warnings=[]))
                code = 0
            except SystemExit as exc:  # the CLI's loop ends with the run's exit code
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        if home is not None:
            set_hypothesis_home_dir(None)
    return code, out.getvalue(), checks
