"""Server-side SVG charts for the admin dashboard: no JavaScript, no style attributes.

Each function returns a complete ``<svg>`` element as a safe string, built from
numbers and escaped labels only. Colours come from CSS classes
(``static/css/nebula-admin.css``, on the admin's own colour variables, so the
light and dark themes both apply): the site's Content-Security-Policy allows no
inline style. Each chart is ``role="img"`` and named by its ``<title>`` and
``<desc>`` (``aria-labelledby``); the page gives the numbers again as a table.
"""

from collections.abc import Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
BAR_AREA_HEIGHT = 160
LABEL_WIDTH = 140
ROW_HEIGHT = 28


def _esc(text: str) -> str:
    return escape(text, quote=True)


def nice_max(value: int) -> int:
    """Return a round axis top at least ``value`` (1, 2, 5, 10, 20, 50...; 1 for nothing)."""
    top = 1
    while True:
        for step in (1, 2, 5):
            if top * step >= value:
                return top * step
        top *= 10


def _open(chart_id: str, title: str, description: str, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="nebula-chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{_esc(title)}</title>',
        f'<desc id="{chart_id}-desc">{_esc(description)}</desc>',
    ]


def column_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    values: Sequence[int],
    tick_every: int = 7,
) -> SafeString:
    """Draw one column per value (30 days of sign-ups), labelling every ``tick_every``-th.

    The last column is always labelled, and the labels are spaced evenly back from it.
    """
    if len(labels) != len(values) or not values:
        raise ValueError("a column chart needs one label per value, and at least one value")
    top = nice_max(max(values))
    left, bottom, gap = 40, BAR_AREA_HEIGHT + 10, 2
    height = bottom + 30
    step = (WIDTH - left - 10) / len(values)
    parts = _open(chart_id, title, description, height)
    # The axis: its top value and zero.
    parts.append(
        f'<text class="nebula-chart-axis" x="{left - 6}" y="18" text-anchor="end">{top}</text>'
    )
    parts.append(
        f'<text class="nebula-chart-axis" x="{left - 6}" y="{bottom}" text-anchor="end">0</text>'
    )
    parts.append(
        f'<line class="nebula-chart-rule" x1="{left}" y1="{bottom}" x2="{WIDTH - 10}" '
        f'y2="{bottom}"/>'
    )
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        bar = round(BAR_AREA_HEIGHT * value / top, 1)
        x = round(left + i * step + gap / 2, 1)
        parts.append(
            f'<rect class="nebula-chart-bar" x="{x}" y="{round(bottom - bar, 1)}" '
            f'width="{round(step - gap, 1)}" height="{bar}"><title>{_esc(label)}: {value}</title>'
            "</rect>"
        )
        # Counted back from the last column, so the latest (today) always has its label.
        if (len(values) - 1 - i) % tick_every == 0:
            parts.append(
                f'<text class="nebula-chart-label" x="{round(x + (step - gap) / 2, 1)}" '
                f'y="{bottom + 20}" text-anchor="middle">{_esc(label)}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every value above is a number or escaped


def bar_chart(
    *, chart_id: str, title: str, description: str, items: Sequence[tuple[str, int]]
) -> SafeString:
    """Draw one horizontal bar per (label, value): counts by status."""
    if not items:
        raise ValueError("a bar chart needs at least one item")
    top = nice_max(max(value for _, value in items))
    height = ROW_HEIGHT * len(items) + 8
    span = WIDTH - LABEL_WIDTH - 60
    parts = _open(chart_id, title, description, height)
    for i, (label, value) in enumerate(items):
        y = 4 + i * ROW_HEIGHT
        bar = round(span * max(value, 0) / top, 1)
        parts.append(
            f'<text class="nebula-chart-label" x="{LABEL_WIDTH - 8}" y="{y + 18}" '
            f'text-anchor="end">{_esc(label)}</text>'
        )
        parts.append(
            f'<rect class="nebula-chart-bar" x="{LABEL_WIDTH}" y="{y + 4}" width="{bar}" '
            f'height="{ROW_HEIGHT - 8}"/>'
        )
        parts.append(
            f'<text class="nebula-chart-value" x="{LABEL_WIDTH + bar + 6}" y="{y + 18}">'
            f"{value}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every value above is a number or escaped
