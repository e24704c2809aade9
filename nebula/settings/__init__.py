"""Settings per environment: ``local`` (default), ``test`` and ``production``.

Pick one with ``DJANGO_SETTINGS_MODULE``; every value is read from the environment.
"""
