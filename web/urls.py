from django.urls import path
from django.views.generic import RedirectView

from web.views import accounts, connect, dataset_page, datasets, versions

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="datasets", permanent=False), name="home"),
    # Connect Data: the Cloud App tiles and the four-pane connector page.
    path("connect/", connect.tiles, name="connect"),
    path("connect/twilio-advanced/", connect.dataset_create, name="connect-twilio"),
    # Accounts tab.
    path("accounts/", accounts.account_list, name="accounts"),
    path("accounts/add/", accounts.account_add, name="account-add"),
    path("accounts/<int:pk>/edit/", accounts.account_edit, name="account-edit"),
    path("accounts/<int:pk>/test/", accounts.account_test, name="account-test"),
    path("accounts/<int:pk>/delete/", accounts.account_delete, name="account-delete"),
    # DataSets tab.
    path("datasets/", datasets.dataset_list, name="datasets"),
    path("datasets/run/", datasets.bulk_run, name="datasets-bulk-run"),
    # A DataSet's page.
    path("datasets/<int:pk>/", dataset_page.overview, name="dataset"),
    path("datasets/<int:pk>/progress.json", dataset_page.progress, name="dataset-progress"),
    path("datasets/<int:pk>/data/", dataset_page.data, name="dataset-data"),
    path("datasets/<int:pk>/charts/", dataset_page.charts, name="dataset-charts"),
    path("datasets/<int:pk>/history/", dataset_page.history, name="dataset-history"),
    path("datasets/<int:pk>/edit/", connect.dataset_edit, name="dataset-edit"),
    path("datasets/<int:pk>/delete/", dataset_page.delete, name="dataset-delete"),
    path("datasets/<int:pk>/run/", dataset_page.run_now, name="dataset-run"),
    path("datasets/<int:pk>/refresh-everything/", dataset_page.refresh_everything,
         name="dataset-refresh-everything"),
    path("datasets/<int:pk>/export.csv", versions.export_current, name="dataset-export"),
    path("datasets/<int:pk>/versions/<int:number>/", versions.preview, name="version"),
    path("datasets/<int:pk>/versions/<int:number>/csv", versions.download, name="version-csv"),
    path("datasets/<int:pk>/versions/<int:number>/xlsx", versions.download_xlsx,
         name="version-xlsx"),
    path("datasets/<int:pk>/versions/<int:number>/revert/", versions.revert, name="version-revert"),
]
