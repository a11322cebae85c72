"""The optimiser's own process, apart from the worker's.

The solver runs in a CHILD PROCESS started with 'spawn' (a fresh interpreter: no inherited
database connections or threads) and gets the contract's instance dict; OR-Tools or the compiled
flow engine can crash natively, and a crash then ends only the child: the plan is marked error
with the reason and the worker carries on with the next plan.

Two ways to have that child:
- `run_in_child()`: a child for one solve (`rehab-net plan --inline`, the RQ job).
- `ResidentOptimiser`: a child that stays, for a worker that runs plan after plan. Starting a
  child costs ~1 s before it solves anything (a new interpreter, importing numpy, numba and the
  solver, loading the compiled engine from numba's cache) where a sample plan's solve itself
  takes ~0.6 s, so the worker starts it once, before the first plan, and keeps it. It is not
  daemonic, so it may fork the solver's pool (services in parallel, both cores); it leads a
  process group of its own, so cancelling a plan or a crash kills it with its pool workers, and
  the next plan gets a new one."""
from __future__ import annotations

import atexit
import multiprocessing
import multiprocessing.util  # noqa: F401  its exit hook joins live children: registered before ours
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from rehab_net.messages import Message, message
from rehab_net.planning import messages as _codes  # noqa: F401  the plan.* codes, in the child too

Target = Callable[[dict, float], dict]


# The results of the services this child solved last (solver.solve.ServiceMemo): a resident child
# answers a re-plan after one booking, cancellation or capacity change by solving only the
# service that changed. Made in the child, on its first solve.
_memo = None


def solve_in_child(instance: dict, time_limit: float) -> dict:
    """The optimiser, run inside the child: contract instance dict in, solution dict out."""
    from solver.io import parse_instance, solution_to_dict
    from solver.solve import ServiceMemo, solve

    global _memo
    if _memo is None:
        _memo = ServiceMemo()
    parsed = parse_instance(instance)
    solution = solve(parsed, time_limit=time_limit, memo=_memo)
    document = solution_to_dict(solution, parsed)
    if solution.message:  # why, when its status is error (not part of the file format)
        document["message"] = solution.message
    return document


def _answer_for(target: Target, instance: dict, time_limit: float) -> tuple:
    try:
        return "ok", target(instance, time_limit)
    except Exception as exc:  # reported to the parent; only a native crash goes unreported
        return "error", describe_exception(exc)  # a Message pickles with its code


def _child_main(sender, target: Target, instance: dict, time_limit: float) -> None:
    sender.send(_answer_for(target, instance, time_limit))
    sender.close()


def describe_exception(exc: Exception) -> Message:
    problems = getattr(exc, "problems", None)  # solver.io.InstanceError lists every problem
    if problems:
        shown = "; ".join(str(p) for p in list(problems)[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        return message("plan.instance_refused", problems=f"{shown}{more}")
    return message("plan.optimiser_failed", error=f"{type(exc).__name__}: {exc}")


@dataclass
class ChildOutcome:
    kind: str  # ok | error | crashed | cancelled | timeout
    solution: dict | None = None
    message: Message | None = None
    seconds: float = 0.0


def run_in_child(instance: dict, time_limit: float, *, target: Target = solve_in_child,
                 should_stop: Callable[[], bool] = lambda: False, tick_seconds: float = 1.0,
                 hard_limit: float | None = None) -> ChildOutcome:
    """Run target(instance, time_limit) in a spawned process and wait for its answer, asking
    should_stop() every tick (cancellation). The child is always gone when this returns, also
    when the caller is interrupted (Ctrl-C, SIGTERM)."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child_main, args=(sender, target, instance, time_limit),
                            name="rehab-net-optimiser", daemon=True)
    started = time.monotonic()
    child.start()
    sender.close()  # ours; when the child dies its end closes too and recv() sees EOF
    try:
        return _wait(receiver, child, started, should_stop, tick_seconds, hard_limit)
    finally:
        _end(child)
        receiver.close()


def _wait(receiver, child, started: float, should_stop: Callable[[], bool],
          tick_seconds: float, hard_limit: float | None) -> ChildOutcome:
    """The child's answer, or why there is none (crashed, cancelled, over the hard limit)."""
    while True:
        if receiver.poll(tick_seconds):
            return _answer(receiver, child, time.monotonic() - started)
        if should_stop():
            return ChildOutcome("cancelled", seconds=time.monotonic() - started)
        if hard_limit is not None and time.monotonic() - started > hard_limit:
            return ChildOutcome("timeout", seconds=time.monotonic() - started,
                                message=message("plan.timeout", seconds=f"{hard_limit:.0f}"))


def _answer(receiver, child, seconds: float) -> ChildOutcome:
    try:
        kind, payload = receiver.recv()
    except EOFError:  # the child died without answering: a native crash, or killed
        child.join(5)
        return ChildOutcome("crashed", seconds=seconds, message=crash_message(child.exitcode))
    if kind == "ok":
        return ChildOutcome("ok", solution=payload, seconds=seconds)
    return ChildOutcome("error", message=payload, seconds=seconds)


def crash_message(exitcode: int | None) -> Message:
    if exitcode is not None and exitcode < 0:
        try:
            how = f"killed by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            how = f"killed by signal {-exitcode}"
    else:
        how = f"exit status {exitcode}"
    return message("plan.crashed", how=how)


def _end(child) -> None:
    if child.is_alive():
        child.terminate()
        child.join(5)
    if child.is_alive():
        child.kill()
        child.join(5)


# --- the resident child -------------------------------------------------------------------------
def _serve(connection) -> None:
    """The resident child's loop: load the solver and its compiled engine once, then answer
    (target, instance, time_limit) requests one at a time until the worker closes its end."""
    os.setpgrp()  # a group of its own: ended with its pool workers (ResidentOptimiser.discard)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the worker's to handle
    from solver.simplex import warm_up

    warm_up()
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):  # the worker is gone or closed its end
            return
        if request is None:
            return
        try:
            connection.send(_answer_for(*request))
        except (BrokenPipeError, OSError):  # the worker went away while this one solved
            return


class ResidentOptimiser:
    """A worker's optimiser child that stays between plans (see the module's docstring).
    `run()` answers like run_in_child(); after a crash, a cancel or a timeout the child is
    killed and the next run starts a new one."""

    def __init__(self) -> None:
        self._child = None
        self._connection = None
        self._owner = os.getpid()
        # atexit runs hooks last-in first-out: ours, registered after multiprocessing.util's
        # (imported above), ends the child before that hook would wait for it forever.
        atexit.register(self.close)

    def owned_here(self) -> bool:
        """False in a fork of the process that made it (its child is not this process's)."""
        return os.getpid() == self._owner

    def start(self) -> None:
        if self._child is not None and self._child.is_alive():
            return
        self.discard()
        context = multiprocessing.get_context("spawn")
        mine, theirs = context.Pipe(duplex=True)
        self._child = context.Process(target=_serve, args=(theirs,),
                                      name="rehab-net-optimiser", daemon=False)
        self._child.start()
        theirs.close()
        self._connection = mine

    def run(self, instance: dict, time_limit: float, *, target: Target = solve_in_child,
            should_stop: Callable[[], bool] = lambda: False, tick_seconds: float = 1.0,
            hard_limit: float | None = None) -> ChildOutcome:
        self.start()
        started = time.monotonic()
        try:
            self._connection.send((target, instance, time_limit))
        except (BrokenPipeError, OSError):  # it died while idle: once more with a new child
            self.discard()
            self.start()
            self._connection.send((target, instance, time_limit))
        try:
            outcome = _wait(self._connection, self._child, started, should_stop, tick_seconds,
                            hard_limit)
        except BaseException:  # Ctrl-C, SIGTERM: the child is not left solving
            self.discard()
            raise
        if outcome.kind in ("crashed", "cancelled", "timeout"):
            self.discard()
        return outcome

    def discard(self) -> None:
        """Kill the child and its pool workers (if any) and forget them."""
        child, self._child = self._child, None
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if child is None:
            return
        if child.is_alive():
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):  # not yet its group's leader
                child.kill()
        child.join(5)

    def close(self) -> None:
        """Let the child finish and exit (the worker stops)."""
        if not self.owned_here():  # a fork's exit: the child is its parent's to close
            return
        if self._connection is not None and self._child is not None and self._child.is_alive():
            try:
                self._connection.send(None)
            except (BrokenPipeError, OSError):
                pass
            self._child.join(2)
        self.discard()
