"""Domain errors. Each carries a stable machine code and a Chinese message for end users.

Entry points map them to HTTP statuses (see `chalicelib.entrypoints.http`); the domain itself knows nothing of HTTP.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "ERROR"
    default_message = "操作失败"

    def __init__(self, message: str | None = None, *, details: Any = None, code: str | None = None):
        self.message = message or self.default_message
        self.details = details
        if code:
            self.code = code
        super().__init__(self.message)


class InvalidInput(DomainError):
    """Bad input: the message says what and where (field, row, column)."""

    code = "INVALID_INPUT"
    default_message = "输入数据不符合要求"


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"
    default_message = "未登录或登录凭证无效"


class Forbidden(DomainError):
    code = "FORBIDDEN"
    default_message = "无权执行此操作"


class NotFound(DomainError):
    """Also raised for another party's object, so its existence is not revealed."""

    code = "NOT_FOUND"
    default_message = "对象不存在"


class Conflict(DomainError):
    """A concurrent change won, or the object is not in a state that allows the operation."""

    code = "CONFLICT"
    default_message = "数据已被他人修改或状态不允许此操作，请刷新后重试"


class TooManyRequests(DomainError):
    code = "TOO_MANY_REQUESTS"
    default_message = "请求过于频繁，请稍后再试"


class InvalidTransition(Conflict):
    code = "INVALID_TRANSITION"
    default_message = "当前状态不允许此操作"
