"""The database session engine with the user, IP address and browser on each row."""

from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpRequest

from .models import UserSession


class SessionStore(DBStore):
    client_ip: str | None = None
    user_agent: str = ""

    @classmethod
    def get_model_class(cls) -> type:
        return UserSession

    def create_model_instance(self, data: dict) -> UserSession:
        instance = super().create_model_instance(data)
        try:
            instance.user_id = int(data.get("_auth_user_id"))
        except (TypeError, ValueError):
            instance.user_id = None
        instance.ip = self.client_ip
        instance.user_agent = self.user_agent
        return instance


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's session middleware, telling the store the client's IP and browser."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.session.client_ip = request.META.get("REMOTE_ADDR")
        request.session.user_agent = request.headers.get("User-Agent", "")[:512]
