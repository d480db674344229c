from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgreementsConfig(AppConfig):
    name = "agreements"
    verbose_name = _("Aid agreements")

    def ready(self):
        from agreements import security  # noqa: F401  (connects the security log's receivers)
        from agreements.access import scope_queryset, sees_everything, user_province
        from agreements.importers import AgreementImporter
        from spreadsheets import registry

        registry.set_access(
            sees_everything=sees_everything, user_province=user_province, scope_queryset=scope_queryset
        )
        registry.register(AgreementImporter, order=10)
