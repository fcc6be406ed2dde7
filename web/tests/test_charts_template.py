"""The charts partial (web/_charts.html) renders datacenter.metrics' charts as cards."""

from datacenter.metrics import charts_to_jsonable, compute_metrics
from datacenter.tests.metrics_support import calls_table


def test_it_renders_cards_and_a_json_block_without_inline_script():
    from django.template.loader import render_to_string

    charts = compute_metrics("calls", calls_table().drop_columns(["price"]), "UTC")
    html = render_to_string("web/_charts.html",
                            {"charts": charts, "charts_json": charts_to_jsonable(charts)})
    assert 'data-chart-id="calls-by-direction"' in html
    assert 'data-chart-id="calls-cost"' not in html  # unavailable: the reason is shown instead
    assert "This version has no `price` column." in html
    assert '<script id="chart-data" type="application/json">' in html
    assert html.count("<script") == 3  # the JSON block and two external files
    assert "vendor/plotly.min.js" in html and "js/charts.js" in html
