"""Saved Twilio accounts, DataSets and their versions.

Every row belongs to a user (`owner`) and views only ever look rows up through their owner
(datacenter/selectors.py). This app knows nothing of runs: scheduler.Run points at the version
a run made (`Run.version`), never the other way round. Business rules live in services.py,
reads in selectors.py.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Region(models.TextChoices):
    # Hosts per region are in twilio_reports/hosts.py; users pick a region, never a URL.
    US1 = "us1", "United States (US1)"
    IE1 = "ie1", "Ireland (IE1)"
    AU1 = "au1", "Australia (AU1)"
    SANDBOX = "sandbox", "Sandbox (this installation's Twilio look-alike)"


class TwilioAccount(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="twilio_accounts"
    )
    name = models.CharField(max_length=100, default="Twilio Account")
    account_sid = models.CharField(max_length=34)
    # Set when the user authenticates with an API key (SK…) instead of the auth token.
    key_sid = models.CharField(max_length=34, blank=True, default="")
    # The auth token or API key secret, Fernet-encrypted (datacenter/crypto.py). Never rendered.
    secret_encrypted = models.TextField()
    region = models.CharField(max_length=16, choices=Region.choices, default=Region.US1)
    # None until the first check; then the result of the last Connect / Test connection.
    is_valid = models.BooleanField(null=True)
    check_message = models.CharField(max_length=300, blank=True, default="")
    # Twilio caps requests in flight per account: every pull of this Account SID, in every
    # worker, shares this many slots (twilio_reports.budget).
    max_in_flight = models.PositiveSmallIntegerField(default=10)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(account_sid__regex=r"^AC[0-9a-f]{32}$"),
                name="account_sid_format",
            ),
            models.CheckConstraint(
                condition=Q(key_sid="") | Q(key_sid__regex=r"^SK[0-9a-f]{32}$"),
                name="account_key_sid_format",
            ),
            models.UniqueConstraint(fields=["owner", "name"], name="account_name_unique_per_owner"),
            models.CheckConstraint(
                condition=Q(max_in_flight__gte=1) & Q(max_in_flight__lte=100),
                name="account_max_in_flight_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_sid(self) -> str:
        """`AC12…89ab`: recognisable without showing the whole SID."""
        return f"{self.account_sid[:4]}…{self.account_sid[-4:]}"


class UpdateMethod(models.TextChoices):
    REPLACE = "replace", "Replace"
    APPEND = "append", "Append"
    MERGE = "merge", "Merge"


class EmptyResult(models.TextChoices):
    """What a run that gets no rows from Twilio does (DataSet.on_empty)."""

    KEEP = "keep", "Keep the current version and warn"
    SAVE = "save", "Save an empty version"


def report_choices() -> list[tuple[str, str]]:
    # The report definitions are the one source of truth for what reports exist.
    from twilio_reports.definitions import REPORTS

    return [(slug, report.label) for slug, report in REPORTS.items()]


class DataSet(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="datasets"
    )
    # Deleting an account keeps its DataSets; they show as needing attention.
    account = models.ForeignKey(
        TwilioAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="datasets"
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, default="")
    report = models.CharField(max_length=32, choices=report_choices)
    # Cleaned filter values and the date block, keyed by twilio_reports FILTERS names.
    params = models.JSONField(default=dict, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    update_method = models.CharField(
        max_length=16, choices=UpdateMethod.choices, default=UpdateMethod.REPLACE
    )
    # A filter typo or a server that reads dates differently must not replace good data
    # with nothing: by default a 0-row run keeps the current version (datacenter.pulls).
    on_empty = models.CharField(max_length=8, choices=EmptyResult.choices,
                                default=EmptyResult.KEEP)
    # Merge only: fetch [last fetched day - lookback, today] instead of the whole window.
    incremental = models.BooleanField(default=False)
    lookback_days = models.PositiveSmallIntegerField(default=3)
    # Append only: rows whose key is already in the table are not added again.
    append_skip_existing = models.BooleanField(default=False)
    # "Refresh everything": the next run pulls the whole window once (then cleared).
    full_refresh_requested = models.BooleanField(default=False)
    # Denormalised pointer so the DataSets tab needs a constant number of queries.
    current_version = models.ForeignKey(
        "datacenter.Version", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_success_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            # The DataSets tab: an owner's DataSets by name (scheduler.selectors.dataset_list).
            models.Index(fields=["owner", "name"], name="dataset_owner_name_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(lookback_days__lte=90),
                                   name="dataset_lookback_days_range"),
            # Fetching only what changed needs Merge: other methods would repeat or lose rows.
            models.CheckConstraint(condition=Q(incremental=False) | Q(update_method="merge"),
                                   name="dataset_incremental_needs_merge"),
        ]

    def __str__(self) -> str:
        return self.name


class Version(models.Model):
    """One immutable version of a DataSet's table (a Delta Lake version)."""

    dataset = models.ForeignKey(DataSet, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    delta_version = models.PositiveIntegerField()
    restored_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rows = models.BigIntegerField(default=0)
    # [[name, type], ...] in table order.
    columns = models.JSONField(default=list)
    bytes = models.BigIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    # Set when retention removed this version's files; the row stays for History.
    reclaimed_at = models.DateTimeField(null=True, blank=True)
    # Charts computed once per version (immutable), see datacenter/version_figures.py.
    metrics = models.JSONField(null=True, blank=True)
    # What the pull that made it fetched: local days of the DataSet's zone (None without a
    # window), whether it was the whole window, and what the write did. The next incremental
    # run starts from `fetched_to` minus the lookback.
    fetched_from = models.DateField(null=True, blank=True)
    fetched_to = models.DateField(null=True, blank=True)
    full_pull = models.BooleanField(default=True)
    rows_new = models.BigIntegerField(null=True, blank=True)
    rows_changed = models.BigIntegerField(null=True, blank=True)
    rows_removed = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "number"], name="version_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset} v{self.number}"
