"""Start Rasa (`python -m actions.rasa_launcher run|shell …`): two measured fixes, four safeguards.

Both found by profiling the Rasa server under `make bench` (docs/performance.md):
1. ~65% of its CPU was `RemoteAction._validate_action_result`: `jsonschema.validate(result, spec)`
   re-checks the constant response schema against the JSON-Schema metaschema on every
   custom-action call. The validator is now compiled once; every action response is still
   validated against the same schema and a bad one raises the same ValidationError.
2. Then ~24% was `Event.resolve_by_type`, which rebuilds the list of all Event subclasses for
   every event of the tracker it deserialises. The type name → class map is now cached (same
   first-match result; a name not in the cache triggers a fresh scan, so late imports still work).

Nothing is imported at module level: rasa-sdk imports every module of the `actions` package.
"""

from __future__ import annotations

import logging
import os
import sys

log = logging.getLogger("kam.rasa_launcher")


def install_fast_action_validation() -> None:
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, instead of on every action call
    validator = cls(schema)

    def _validate_action_result(self, result) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is not None:
            error.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise error
        return True

    RemoteAction._validate_action_result = _validate_action_result


def install_event_type_cache() -> None:
    from rasa.shared.core import events
    from rasa.shared.utils.common import all_subclasses

    cache: dict = {}

    def resolve_by_type(type_name, default=None):
        cls = cache.get(type_name)
        if cls is None:
            for candidate in all_subclasses(events.Event):
                cache.setdefault(candidate.type_name, candidate)  # first match wins, as in Rasa
            cls = cache.get(type_name)
        if cls is not None:
            return cls
        if type_name == "topic":
            return None  # backwards compatibility, as in Rasa
        if default is not None:
            return default
        raise ValueError(f"Unknown event name '{type_name}'.")

    events.Event.resolve_by_type = staticmethod(resolve_by_type)


def install_action_failure_reply() -> None:
    """A failed custom action answers 「暂时不可用」 instead of nothing (Rasa logs and goes silent)."""
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
    from rasa.shared.core.events import BotUttered

    from actions.rest_door import UNAVAILABLE

    original = RemoteAction.run
    if getattr(original, "_kam_wrapped", False):
        return

    async def run(self, output_channel, nlg, tracker, domain):
        try:
            return await original(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except Exception as e:  # noqa: BLE001 - any failure of the action server gets the reply
            cause = e.__cause__ or e
            log.error("action %s failed for sender %s: %s (answered 暂时不可用)",
                      self.name(), tracker.sender_id, type(cause).__name__)
            return [BotUttered(UNAVAILABLE, {})]

    run._kam_wrapped = True
    RemoteAction.run = run


def install_action_endpoint_token() -> None:
    """With BOT_SHARED_SECRET set, the action endpoint always sends the action server's token."""
    secret = os.environ.get("BOT_SHARED_SECRET")
    if not secret:
        return
    from rasa.core.utils import AvailableEndpoints

    from actions.action_server import TOKEN_HEADER, action_token

    original = AvailableEndpoints.read_endpoints.__func__
    if getattr(original, "_kam_wrapped", False):
        return

    def read_endpoints(cls, endpoint_file):
        endpoints = original(cls, endpoint_file)
        if endpoints.action is not None:
            endpoints.action.headers = {**(endpoints.action.headers or {}), TOKEN_HEADER: action_token(secret)}
        return endpoints

    read_endpoints._kam_wrapped = True
    AvailableEndpoints.read_endpoints = classmethod(read_endpoints)


def install_door_for_shell() -> None:
    from rasa.core import channels

    from actions.rest_door import KamCmdlineInput

    channels.BUILTIN_CHANNELS["cmdline"] = KamCmdlineInput


def _has(args: list[str], *flags: str) -> bool:
    return any(a in flags or any(a.startswith(f + "=") for f in flags) for a in args)


def server_args(args: list[str]) -> list[str]:
    """`--auth-token` from RASA_AUTH_TOKEN, `--interface 127.0.0.1` for the shell; refuse an open API."""
    if not args or args[0] not in ("run", "shell"):
        return args
    args = list(args)
    token = os.environ.get("RASA_AUTH_TOKEN")
    if token and not _has(args, "--auth-token", "-t"):
        args += [f"--auth-token={token}"]  # one argument: a token may begin with "-"
    if args[0] == "shell" and not _has(args, "--interface", "-i"):
        args += ["--interface", "127.0.0.1"]
    if args[0] == "run" and "--enable-api" in args and not _has(args, "--auth-token", "-t"):
        raise SystemExit("错误：--enable-api 需要 RASA_AUTH_TOKEN（或 --auth-token），否则 Rasa 的 HTTP 接口对谁都开放")
    return args


def default_tracker_db() -> None:
    """endpoints.yml keeps conversations in KAM_TRACKER_DB; default var/tracker.db of this checkout."""
    from pathlib import Path

    from actions.ops import private_file

    if not os.environ.get("KAM_TRACKER_DB"):
        var = Path(__file__).resolve().parents[1] / "var"
        var.mkdir(exist_ok=True)
        os.environ["KAM_TRACKER_DB"] = str(var / "tracker.db")
    private_file(Path(os.environ["KAM_TRACKER_DB"]))


def quiet_library_warnings() -> None:
    """What libraries say on every start that a user can do nothing about (Rasa, TensorFlow,
    SQLAlchemy, setuptools, matplotlib deprecations; Rasa's note that RulePolicy's default intents
    are off: this project answers every message with one action). Warnings about the project's own
    data and configuration still show."""
    import warnings

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    from actions.quiet import LIBRARY_NOISE, quiet_library_deprecations

    for category in LIBRARY_NOISE:
        warnings.filterwarnings("ignore", category=category)

    quiet_library_deprecations()  # also what libraries show under filters of their own
    from rasa.utils import common

    # Rasa re-applies its own filters when its command starts; these join its list of expected ones.
    common.EXPECTED_WARNINGS.extend([
        (UserWarning, "'RulePolicy' is not included in the model's policy configuration"),
        (UserWarning, "Slot auto-fill has been removed"),
        (Warning, "Deprecated API features detected"),
        (DeprecationWarning, ""),
        (FutureWarning, ""),
    ])
    for name in ("tensorflow", "absl", "matplotlib", "h5py"):
        logging.getLogger(name).setLevel(logging.ERROR)
    import jieba  # it sets its own logger to DEBUG when imported: import it first, then quiet it

    jieba.setLogLevel(logging.ERROR)


def install_sqlite_tracker_store_tuning() -> None:
    """The tracker store on SQLite (the embedded default): one kept connection instead of a new
    one per message (SQLAlchemy 1.4 does not pool SQLite files), write-ahead log and NORMAL sync as
    the CRM's engine has, so saving a conversation does not wait on a full fsync per message."""
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore
    from sqlalchemy import event
    from sqlalchemy.pool import QueuePool

    original = SQLTrackerStore.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if self.engine.dialect.name != "sqlite" or str(self.engine.url).endswith(":memory:"):
            return
        engine = sa.create_engine(self.engine.url, poolclass=QueuePool, pool_size=2, max_overflow=2,
                                  connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        self.engine.dispose()
        self.engine = engine
        self.sessionmaker = sa.orm.session.sessionmaker(bind=engine)

    SQLTrackerStore.__init__ = __init__


def install_lean_sql_tracker_save() -> None:
    """SQLTrackerStore.save counts the session's stored events with a query on every message to know
    which events are new (13% of Rasa's CPU in profile). The tracker it saves was read from the
    store moments before, under the conversation's lock: remember how many events were read, and
    count only when that is unknown (a new conversation). Same events stored as Rasa stores them."""
    import itertools

    from rasa.core.tracker_store import SQLTrackerStore

    retrieve, additional = SQLTrackerStore._retrieve, SQLTrackerStore._additional_events

    async def _retrieve(self, sender_id, fetch_events_from_all_sessions):
        tracker = await retrieve(self, sender_id, fetch_events_from_all_sessions)
        if tracker is not None and not fetch_events_from_all_sessions:
            tracker._kam_stored = len(tracker.events)
        return tracker

    def _additional_events(self, session, tracker):
        stored = getattr(tracker, "_kam_stored", None)
        if stored is None:
            return additional(self, session, tracker)
        return itertools.islice(tracker.events, stored, len(tracker.events))

    async def _save(self, tracker):
        """Rasa's save, with the new events in one INSERT instead of one ORM object each."""
        import json

        from rasa.shared.nlu.constants import INTENT_NAME_KEY

        await self.stream_events(tracker)
        with self.session_scope() as session:
            rows = []
            for event in self._additional_events(session, tracker):
                data = event.as_dict()
                rows.append({
                    "sender_id": tracker.sender_id, "type_name": event.type_name, "timestamp": data.get("timestamp"),
                    "intent_name": (data.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY),
                    "action_name": data.get("name"), "data": json.dumps(data),
                })
            if rows:
                session.execute(self.SQLEvent.__table__.insert(), rows)
            session.commit()
        tracker._kam_stored = None  # a new session may have begun in the database: count next time

    SQLTrackerStore._retrieve = _retrieve
    SQLTrackerStore._additional_events = _additional_events
    SQLTrackerStore.save = _save


TRACKER_INDEXES = (
    ("kam_events_sender_type_time", "sender_id, type_name, timestamp"),
    ("kam_events_sender_time", "sender_id, timestamp"),
)


def install_indexed_tracker_queries() -> None:
    """Reading a conversation from the SQL tracker store costs what that manager ever said, not what
    the current session holds: Rasa finds the latest session start with a sub-query over all of the
    sender's events and filters every one of them with an OR against it (16% of Rasa's time at 10
    managers at once, growing by the day). Two indexes (created when missing, on SQLite and
    PostgreSQL) and the same query in two indexed steps: the latest session start, then the events
    from it on. Same events, same order."""
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import SessionStarted

    original = SQLTrackerStore.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        for name, columns in TRACKER_INDEXES:
            try:
                with self.engine.begin() as conn:
                    conn.execute(sa.text(f"CREATE INDEX IF NOT EXISTS {name} ON events ({columns})"))
            except sa.exc.SQLAlchemyError as e:  # another instance creating it at the same moment
                log.warning("tracker store index %s not created: %s", name, type(e).__name__)

    def _event_query(self, session, sender_id, fetch_events_from_all_sessions):
        events = self.SQLEvent
        query = session.query(events).filter(events.sender_id == sender_id)
        if not fetch_events_from_all_sessions:
            start = (
                session.query(sa.func.max(events.timestamp))
                .filter(events.sender_id == sender_id, events.type_name == SessionStarted.type_name)
                .scalar()
            )
            if start is not None:
                query = query.filter(events.timestamp >= start)
        return query.order_by(events.id)

    SQLTrackerStore.__init__ = __init__
    SQLTrackerStore._event_query = _event_query


def install_lean_logistic_regression() -> None:
    """LogisticRegressionClassifier stacks each message's sparse sentence features with an empty
    dense matrix through two conversions (10% of Rasa's CPU). With no dense features, the sparse
    ones are the matrix: same numbers, no copies."""
    from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
    from rasa.shared.nlu.constants import TEXT
    from scipy.sparse import vstack

    original = LogisticRegressionClassifier._create_X

    def _create_X(self, messages):  # noqa: N802 - Rasa's name
        rows = []
        for m in messages:
            sparse, dense = m.get_sparse_features(attribute=TEXT)[1], m.get_dense_features(attribute=TEXT)[1]
            if sparse is None or dense is not None:
                return original(self, messages)
            rows.append(sparse.features.tocsr())
        return vstack(rows, format="csr")

    LogisticRegressionClassifier._create_X = _create_X

    # predict_proba multiplies the message's row by coef_.T; scipy copies a transposed C-ordered
    # matrix (vocabulary × intents) to make it contiguous, on every message. Stored column-major,
    # its transpose is contiguous already: the same products, no copy.
    import functools

    import numpy as np

    process = LogisticRegressionClassifier.process

    @functools.wraps(process)  # Rasa validates a component's annotations when it trains: keep them
    def process_contiguous(self, messages):
        coef = getattr(self.clf, "coef_", None)
        if coef is not None and not coef.flags.f_contiguous:
            self.clf.coef_ = np.asfortranarray(coef)
        return process(self, messages)

    LogisticRegressionClassifier.process = process_contiguous


def install_plain_graph_runner() -> None:
    """Serving runs two small graphs per message (NLU, then the policy). Rasa hands each to dask,
    whose scheduler costs about a quarter of the NLU's time for eight nodes. The same graph, run
    depth-first with each node once, gives the same results; the minimal sub-graph per set of
    targets is computed once. Serving only: training keeps dask (it frees what it no longer needs)."""
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    def run(self, inputs=None, targets=None):
        run_targets = targets if targets else self._graph_schema.target_names
        schemas = self.__dict__.setdefault("_kam_schemas", {})
        schema = schemas.get(tuple(run_targets))
        if schema is None:
            schema = schemas[tuple(run_targets)] = self._graph_schema.minimal_graph_schema(run_targets)
        graph = self._build_dask_graph(schema)
        if inputs:
            self._add_inputs_to_graph(inputs, graph)
        done: dict = {}

        def value(key):
            if key not in done:
                task = graph[key]
                if callable(task[0]):
                    done[key] = task[0](*(value(dep) for dep in task[1:]))
                else:
                    done[key] = task  # an input: (name, value), as dask passes a literal tuple
            return done[key]

        try:
            return dict(value(t) for t in run_targets)
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e

    DaskGraphRunner.run = run


def main(argv: list[str] | None = None) -> None:
    quiet_library_warnings()
    install_sqlite_tracker_store_tuning()
    install_indexed_tracker_queries()
    install_lean_sql_tracker_save()
    install_lean_logistic_regression()
    args = server_args(list(sys.argv[1:] if argv is None else argv))
    if args and args[0] in ("run", "shell"):
        install_plain_graph_runner()
    default_tracker_db()
    install_fast_action_validation()
    install_event_type_cache()
    install_action_failure_reply()
    install_action_endpoint_token()
    if args and args[0] == "shell":
        install_door_for_shell()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *args]
    rasa_main()


if __name__ == "__main__":
    main()
