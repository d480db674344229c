from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgreementsConfig(AppConfig):
    name = "agreements"
    verbose_name = _("Aid agreements")

    def ready(self):
        from agreements import security  # noqa: F401  (connects the security log's receivers)
