from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        # contrib.auth stamps last_login with an ORM save; accounts.auth.login
        # stamps it in DynamoDB instead.
        user_logged_in.disconnect(dispatch_uid="update_last_login")
