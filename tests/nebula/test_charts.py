"""The dashboard's SVG charts: well-formed, named for screen readers, styled by class only."""

import xml.etree.ElementTree as ET

import pytest

from nebula.charts import bar_chart, column_chart, nice_max

pytestmark = pytest.mark.no_dynamodb

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str | bytes) -> ET.Element:
    """Parse markup the site made (as XML: a parse error is a malformed chart)."""
    return ET.fromstring(markup)  # noqa: S314 - the site's own output, not untrusted input


def _columns(values: list[int]) -> ET.Element:
    labels = [f"Nov {day:02d}" for day in range(1, len(values) + 1)]
    svg = column_chart(
        chart_id="c", title="Sign-ups", description="Per day", labels=labels, values=values
    )
    return parse(str(svg))


@pytest.mark.parametrize(("value", "top"), [(0, 1), (1, 1), (3, 5), (7, 10), (11, 20), (130, 200)])
def test_the_axis_top_is_round_and_not_below_the_largest_value(value: int, top: int) -> None:
    assert nice_max(value) == top


def test_a_column_chart_has_one_bar_per_value_scaled_to_the_axis() -> None:
    root = _columns([0, 5, 10])

    bars = root.findall(f"{SVG}rect")
    assert [float(bar.get("height")) for bar in bars] == [0.0, 80.0, 160.0]
    assert [bar.find(f"{SVG}title").text for bar in bars] == [
        "Nov 01: 0",
        "Nov 02: 5",
        "Nov 03: 10",
    ]


def test_a_chart_is_an_image_named_by_its_title_and_description() -> None:
    root = _columns([1, 2])

    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c-title c-desc"
    assert root.find(f"{SVG}title").get("id") == "c-title"
    assert root.find(f"{SVG}desc").text == "Per day"


def test_no_element_carries_a_style_attribute_or_a_script() -> None:
    for svg in (
        _columns([3, 1]),
        parse(str(bar_chart(chart_id="b", title="t", description="d", items=[("new", 2)]))),
    ):
        for element in svg.iter():
            assert "style" not in element.attrib
            assert element.tag != f"{SVG}script"


def test_labels_are_escaped() -> None:
    svg = bar_chart(chart_id="b", title="<b>", description="&", items=[("<script>", 1)])

    root = parse(str(svg))
    assert root.find(f"{SVG}title").text == "<b>"
    assert next(t.text for t in root.iter(f"{SVG}text")) == "<script>"


def test_a_bar_chart_draws_each_status_with_its_number() -> None:
    svg = bar_chart(
        chart_id="b", title="Jobs", description="d", items=[("queued", 4), ("failed", 2)]
    )

    root = parse(str(svg))
    widths = [float(rect.get("width")) for rect in root.iter(f"{SVG}rect")]
    assert widths[0] == 2 * widths[1] > 0
    assert [t.text for t in root.iter(f"{SVG}text")] == ["queued", "4", "failed", "2"]


def test_the_last_column_is_labelled_and_labels_are_evenly_spaced_back_from_it() -> None:
    root = _columns(list(range(30)))

    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "nebula-chart-label"]
    assert labels == ["Nov 02", "Nov 09", "Nov 16", "Nov 23", "Nov 30"]
