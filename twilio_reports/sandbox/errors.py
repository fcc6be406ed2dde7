"""Twilio-style error bodies: {code, message, more_info, status}."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str,
                 headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or []

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message,
                "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
                "status": self.status}


def bad_request(message: str, code: int = 20001) -> ApiError:
    return ApiError(400, code, message)


def not_found(path: str) -> ApiError:
    return ApiError(404, 20404, f"The requested resource {path} was not found")


def unauthorized() -> ApiError:
    return ApiError(401, 20003, "Authenticate",
                    [("WWW-Authenticate", 'Basic realm="Twilio API"')])


def too_many_requests(retry_after: bool = False) -> ApiError:
    headers = [("Retry-After", "1")] if retry_after else []
    return ApiError(429, 20429, "Too Many Requests", headers)


def server_error(status: int) -> ApiError:
    if status == 503:
        return ApiError(503, 20503, "Service Unavailable")
    return ApiError(500, 20500, "Internal Server Error")
