from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models


class UserSession(AbstractBaseSession):
    """A database session with who, from where and when (Django's documented extension)."""

    user_id = models.IntegerField(null=True, db_index=True)
    ip = models.GenericIPAddressField(null=True)
    user_agent = models.CharField(max_length=512, blank=True)
    last_seen = models.DateTimeField(auto_now=True)

    @classmethod
    def get_session_store_class(cls) -> type:
        from .sessions import SessionStore

        return SessionStore
