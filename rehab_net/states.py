"""One state-machine idiom for every workflow (referrals, appointments, waitlist entries, plans,
cases): a table of actions, each moving a row from some states to one state, and one way to make
the move, a conditional UPDATE ... WHERE state IN (the action's sources), so that of two people
(or processes) acting at once exactly one wins and the other learns the state the row is in now.

Each module's ``states.py`` builds its Machine from its table; the vocabulary tuples (the CHECK
constraints, the schemas' OneOf), the final and open sets and the pages' allowed actions are
derived from it. docs/states.md says how to add a state."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rehab_net.errors import Conflict
from rehab_net.messages import message


@dataclass(frozen=True)
class Action:
    name: str
    sources: tuple[str, ...]
    target: str
    side: str = "user"  # who takes it; "system" = a job or another module's step, never a button
    past: str = ""  # "cannot be <past>" in the refusal; the name when empty
    needs_reason: bool = False
    needs_outcome: bool = False

    @property
    def done(self) -> str:
        return self.past or self.name


@dataclass(frozen=True)
class Moved:
    """What a move did, for the module's event callback."""
    model: type
    row_id: int
    action: Action
    from_state: str | None  # None when the caller did not say which source it read
    context: dict = field(default_factory=dict)

    @property
    def to_state(self) -> str:
        return self.action.target


class Machine:
    """A workflow's table. ``states`` are in their stored order (the CHECK constraint lists them
    so; the first is where a new row starts); the final states are those no action leaves."""

    def __init__(self, noun: str, states: tuple[str, ...], actions: tuple[Action, ...], *,
                 column: str = "status", on_move: Callable[[Session, Moved], None] | None = None,
                 refused: Callable[[Machine, Action, str], Conflict] | None = None,
                 raced: Callable[[Machine, object], Conflict] | None = None):
        self.noun, self.column, self.states = noun, column, tuple(states)
        self.actions = {a.name: a for a in actions}
        for a in actions:
            unknown = {*a.sources, a.target} - set(self.states)
            assert not unknown, f"{noun} action {a.name}: unknown states {unknown}"
        self.final = tuple(s for s in self.states if not self.actions_from(s, side=None))
        self.open = tuple(s for s in self.states if s not in self.final)
        self.on_move = on_move
        self._refused, self._raced = refused, raced

    # --- reading the table ----------------------------------------------------------------------
    def subset(self, *states: str) -> tuple[str, ...]:
        """A named set of states (bookable, active ...), checked against the table and kept in
        the table's order."""
        unknown = set(states) - set(self.states)
        assert not unknown, f"unknown {self.noun} states {unknown}"
        return tuple(s for s in self.states if s in states)

    def action(self, name: str) -> Action:
        return self.actions[name]

    def can(self, action: str, state: str) -> bool:
        rule = self.actions.get(action)
        return rule is not None and state in rule.sources

    def actions_from(self, state: str, *, side: str | None = "user") -> list[str]:
        """The actions that leave ``state``, in the table's order; by default only those a user
        takes (side None: every one; any other side: that side's)."""
        return [a.name for a in self.actions.values() if state in a.sources
                and (side is None or (a.side != "system" if side == "user" else a.side == side))]

    def targets_from(self, state: str) -> set[str]:
        return {a.target for a in self.actions.values() if state in a.sources}

    # --- refusing -------------------------------------------------------------------------------
    def refused(self, action: str, state: str) -> Conflict:
        rule = self.actions[action]
        if self._refused is not None:
            return self._refused(self, rule, state)
        article = "An" if self.noun[0] in "aeiou" else "A"
        return Conflict("state.refused", article=article, noun=self.noun, state=state,
                        done=rule.done, errors=[{"field": self.column,
                                                 "rule": message("state.is", state=state)}])

    def check(self, action: str, state: str) -> Action:
        """The action's rule; 409 naming the state when the action does not leave it."""
        if not self.can(action, state):
            raise self.refused(action, state)
        return self.actions[action]

    def raced(self, fresh) -> Conflict:
        """Someone else moved the row between our read and our UPDATE (``fresh``: the row's
        state and version now, read by a new statement so that it sees their commit)."""
        if self._raced is not None:
            return self._raced(self, fresh)
        state = getattr(fresh, self.column)
        return Conflict("state.raced", noun=self.noun, state=state,
                        errors=[{"field": self.column,
                                 "rule": message("state.is_now", state=state)}])

    # --- moving ---------------------------------------------------------------------------------
    def move(self, session: Session, model: type, row_id: int, action: str, *,
             from_state: str | None = None, expected_version: int | None = None,
             values: dict | None = None, strict: bool = True, synchronize=False,
             event: Callable[[Session, Moved], None] | None = None, **context) -> bool:
        """UPDATE model SET <column> = target, values ... WHERE id = row_id AND <column> IN
        (sources) [AND version = expected_version]. With ``from_state`` (the state the caller
        read) the action must leave it (else 409, nothing written) and the UPDATE is conditional
        on exactly it. A versioned model's version goes up by one.

        True when this call moved the row (then ``event``, or else the machine's on_move,
        writes the event row, given a Moved with ``context``); when nothing matched, 409 naming
        the state now, or with ``strict=False`` just False. ``synchronize`` is the UPDATE's
        synchronize_session (False: the caller refreshes the object it holds)."""
        rule = self.check(action, from_state) if from_state is not None else self.actions[action]
        column = getattr(model, self.column)
        where = [model.id == row_id]
        where.append(column == from_state if from_state is not None
                     else column.in_(rule.sources))
        versioned = hasattr(model, "version")
        if expected_version is not None:
            where.append(model.version == expected_version)
        changes = {self.column: rule.target, **(values or {})}
        if versioned and "version" not in changes:
            changes["version"] = model.version + 1
        result = session.execute(
            update(model).where(*where).values(**changes),
            execution_options={"synchronize_session": synchronize})
        if result.rowcount != 1:
            if not strict:
                return False
            columns = [column, model.version] if versioned else [column]
            fresh = session.execute(select(*columns).where(model.id == row_id)).one()
            raise self.raced(fresh)
        callback = event or self.on_move
        if callback is not None:
            callback(session, Moved(model, row_id, rule, from_state, context))
        return True
