from django.apps import AppConfig


class DatacenterConfig(AppConfig):
    name = "datacenter"
    verbose_name = "Data Center"

    def ready(self) -> None:
        from datacenter import checks  # noqa: F401  (registers the credential key check)
