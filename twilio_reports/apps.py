from django.apps import AppConfig


class TwilioReportsConfig(AppConfig):
    name = "twilio_reports"
    verbose_name = "Twilio reports"
