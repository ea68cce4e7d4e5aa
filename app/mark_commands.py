"""Undoable edits of the open reading, for the reading controller's QUndoStack.

Each command changes the reading it finds when it runs (not a snapshot taken when it
was created), so undoing one step never throws away another one made since; every
redo and undo is saved at once through the controller (autosave per edit) with the
audit action of what actually happened: undoing "mark added" is saved as
"mark_deleted", with ``"undo": true`` in the detail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Protocol

from PySide6.QtGui import QUndoCommand

from reading.model import AiDecision, Assessment, Mark, Reading

_TEXT_ID = 1001  # consecutive text commands merge into one undo step


class ReadingEditor(Protocol):
    """What a command needs from the controller."""

    @property
    def reading(self) -> Reading | None: ...

    def commit(self, reading: Reading, action: str, detail: Mapping[str, Any]) -> None: ...


class ReadingCommand(QUndoCommand):
    """Base: ``_apply(reading, forward)`` returns the new reading, the action and detail."""

    def __init__(self, editor: ReadingEditor, text: str) -> None:
        super().__init__(text)
        self._editor = editor

    def _apply(self, reading: Reading, forward: bool) -> tuple[Reading, str, dict[str, Any]]:
        raise NotImplementedError

    def _run(self, forward: bool) -> None:
        reading = self._editor.reading
        if reading is None or reading.signed:
            self.setObsolete(True)
            return
        changed, action, detail = self._apply(reading, forward)
        if not forward:
            detail = {**detail, "undo": True}
        self._editor.commit(changed, action, detail)

    def redo(self) -> None:
        self._run(True)

    def undo(self) -> None:
        self._run(False)


def _without(reading: Reading, mark_id: str) -> Reading:
    return replace(reading, marks=tuple(m for m in reading.marks if m.id != mark_id))


def _replace_mark(reading: Reading, mark: Mark) -> Reading:
    return replace(reading, marks=tuple(mark if m.id == mark.id else m for m in reading.marks))


class AddMark(ReadingCommand):
    def __init__(self, editor: ReadingEditor, mark: Mark, text: str) -> None:
        super().__init__(editor, text)
        self.mark = mark

    def _apply(self, reading: Reading, forward: bool) -> tuple[Reading, str, dict[str, Any]]:
        if forward:
            return (replace(reading, marks=(*_without(reading, self.mark.id).marks, self.mark)),
                    "mark_added", {"mark": self.mark.to_dict()})
        return _without(reading, self.mark.id), "mark_deleted", {"mark_id": self.mark.id}


class DeleteMark(ReadingCommand):
    def __init__(self, editor: ReadingEditor, mark: Mark, index: int, text: str) -> None:
        super().__init__(editor, text)
        self.mark, self.index = mark, index

    def _apply(self, reading: Reading, forward: bool) -> tuple[Reading, str, dict[str, Any]]:
        if forward:
            return _without(reading, self.mark.id), "mark_deleted", {"mark_id": self.mark.id}
        marks = list(_without(reading, self.mark.id).marks)
        marks.insert(min(self.index, len(marks)), self.mark)
        return replace(reading, marks=tuple(marks)), "mark_added", {"mark": self.mark.to_dict()}


class MoveMark(ReadingCommand):
    def __init__(self, editor: ReadingEditor, mark_id: str, dx: float, dy: float,
                 text: str) -> None:
        super().__init__(editor, text)
        self.mark_id, self.dx, self.dy = mark_id, dx, dy

    def _apply(self, reading: Reading, forward: bool) -> tuple[Reading, str, dict[str, Any]]:
        sign = 1.0 if forward else -1.0
        dx, dy = sign * self.dx, sign * self.dy
        mark = reading.mark(self.mark_id)
        if mark is not None:
            moved = replace(mark, points=tuple((x + dx, y + dy) for x, y in mark.points))
            reading = _replace_mark(reading, moved)
        return reading, "mark_moved", {"mark_id": self.mark_id, "dx": dx, "dy": dy}


class ChangeMark(ReadingCommand):
    """Relabel a mark (``field="label"``) or change its confidence (``field="confidence"``)."""

    def __init__(self, editor: ReadingEditor, mark: Mark, field: str, value: str | None,
                 text: str) -> None:
        super().__init__(editor, text)
        self.mark_id, self.field = mark.id, field
        self.old: str | None = getattr(mark, field)
        self.new = value

    def _apply(self, reading: Reading, forward: bool) -> tuple[Reading, str, dict[str, Any]]:
        value = self.new if forward else self.old
        mark = reading.mark(self.mark_id)
        if mark is not None:
            changed = (replace(mark, label=value or mark.label) if self.field == "label"
                       else replace(mark, confidence=value))
            reading = _replace_mark(reading, changed)
        action = "mark_relabelled" if self.field == "label" else "mark_confidence_changed"
        return reading, action, {"mark_id": self.mark_id, self.field: value}


class SetAssessment(ReadingCommand):
    def __init__(self, editor: ReadingEditor, old: Assessment, new: Assessment,
                 text: str) -> None:
        super().__init__(editor, text)
        self.old, self.new = old, new

    def _apply(self, reading: Reading, forward: bool) -> tuple[Reading, str, dict[str, Any]]:
        value = self.new if forward else self.old
        return (replace(reading, assessment=value), "assessment_changed",
                {"assessment": value.to_dict()})


class SetText(ReadingCommand):
    def __init__(self, editor: ReadingEditor, old: str, new: str, text: str) -> None:
        super().__init__(editor, text)
        self.old, self.new = old, new

    def id(self) -> int:
        return _TEXT_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetText):
            return False
        self.new = other.new
        return True

    def _apply(self, reading: Reading, forward: bool) -> tuple[Reading, str, dict[str, Any]]:
        value = self.new if forward else self.old
        return replace(reading, text=value), "text_changed", {"length": len(value)}


class Decide(ReadingCommand):
    """Accept or dismiss one AI finding (with an optional reason)."""

    def __init__(self, editor: ReadingEditor, old: AiDecision | None, new: AiDecision,
                 text: str) -> None:
        super().__init__(editor, text)
        self.old, self.new = old, new

    def _apply(self, reading: Reading, forward: bool) -> tuple[Reading, str, dict[str, Any]]:
        value = self.new if forward else self.old
        others = tuple(d for d in reading.ai_decisions if d.finding_key != self.new.finding_key)
        decisions = (*others, value) if value is not None else others
        detail: dict[str, Any] = ({"finding_key": self.new.finding_key, "decision": None}
                                  if value is None else value.to_dict())
        return replace(reading, ai_decisions=decisions), "ai_decision", detail

