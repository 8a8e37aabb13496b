"""Explicit state transitions: every lifecycle in the platform is a table of (state, event) -> next state."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Generic, TypeVar

from chalicelib.domain.errors import InvalidTransition

S = TypeVar("S", bound=StrEnum)
E = TypeVar("E", bound=StrEnum)


class TransitionTable(Generic[S, E]):
    def __init__(self, name: str, transitions: Mapping[tuple[S, E], S], labels: Mapping[StrEnum, str] | None = None):
        self.name = name
        self._t = dict(transitions)
        self._labels = dict(labels or {})

    def next_state(self, state: S, event: E) -> S:
        try:
            return self._t[(state, event)]
        except KeyError:
            label = self._labels.get(state, state.value)
            action = self._labels.get(event, event.value)
            raise InvalidTransition(
                f"当前状态为“{label}”，不能执行“{action}”", details={"state": state.value, "event": event.value}
            ) from None

    def allowed_events(self, state: S) -> list[E]:
        return [e for (s, e) in self._t if s == state]

    def edges(self) -> list[tuple[S, E, S]]:
        return [(s, e, n) for (s, e), n in self._t.items()]
