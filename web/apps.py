from django.apps import AppConfig


class WebConfig(AppConfig):
    """The user interface: views, forms, template tags, URLs and middleware of the site."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "web"
