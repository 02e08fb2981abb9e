"""Charts as inline SVG, drawn on the server: no script, no external request, readable without
colour (each series also has a pattern-free legend with its numbers, and every chart comes with
its data table in the page)."""

from __future__ import annotations

from html import escape

NEGATIVE, NEUTRAL, POSITIVE, LINE, STEP = "#c9302c", "#9aa0a6", "#2e7d32", "#1a4f8b", "#6a1b9a"


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def volume_chart(buckets: list[dict], title: str, markers: list[dict] | None = None,
                 width: int = 760, height: int = 220) -> str:
    """Stacked bars (negative / neutral / positive per bucket) and the negative share as a line.
    `buckets`: [{"label", "negative", "neutral", "positive"}]; `markers`: [{"index", "label"}]
    drawn as vertical lines (steps done)."""
    if not buckets:
        return f'<p class="note">{escape(title)}：暂无数据</p>'
    left, right, top, bottom = 44, 44, 14, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [b["negative"] + b["neutral"] + b["positive"] for b in buckets]
    peak = max(max(totals), 1)
    step = plot_w / len(buckets)
    bar = max(1.0, step * 0.8)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for tick in (0, 0.5, 1):  # left axis: mentions
        y = top + plot_h * (1 - tick)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e0e0e0"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#444">{_fmt(peak * tick)}</text>')
        parts.append(f'<text x="{left + plot_w + 6}" y="{y + 4:.1f}" font-size="11" fill="{LINE}">{int(tick * 100)}%</text>')
    points = []
    label_every = max(1, len(buckets) // 8)
    for i, b in enumerate(buckets):
        x = left + i * step + (step - bar) / 2
        y = top + plot_h
        for key, colour in (("negative", NEGATIVE), ("neutral", NEUTRAL), ("positive", POSITIVE)):
            h = plot_h * b[key] / peak
            if h > 0:
                y -= h
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}">'
                             f'<title>{escape(b["label"])} {key} {b[key]}</title></rect>')
        total = totals[i]
        if total:
            share = b["negative"] / total
            points.append(f"{left + i * step + step / 2:.1f},{top + plot_h * (1 - share):.1f}")
        if i % label_every == 0:
            parts.append(f'<text x="{left + i * step + step / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" '
                         f'font-size="10" fill="#444">{escape(b["label"])}</text>')
    if len(points) > 1:
        parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    for marker in markers or []:
        x = left + marker["index"] * step + step / 2
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" stroke="{STEP}" stroke-width="2" '
                     f'stroke-dasharray="4 3"><title>{escape(marker["label"])}</title></line>')
    legend = [("负面", NEGATIVE), ("中性", NEUTRAL), ("正面", POSITIVE), ("负面占比（右轴）", LINE)] + \
        ([("步骤完成", STEP)] if markers else [])
    x = left
    for name, colour in legend:
        parts.append(f'<rect x="{x}" y="{height - 14}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{x + 14}" y="{height - 5}" font-size="11" fill="#222">{escape(name)}</text>')
        x += 28 + 13 * len(name)
    parts.append("</svg>")
    return "".join(parts)


def effect_chart(effects: list[dict], width: int = 760) -> str:
    """Per step done: mentions in the window before and after (bars), negative share before and after (text)."""
    if not effects:
        return '<p class="note">尚无已完成的步骤，无法衡量处置效果。</p>'
    row_h, left = 46, 230
    height = 20 + row_h * len(effects) + 20
    peak = max(max(e["before"]["mentions"], e["after"]["mentions"]) for e in effects) or 1
    plot_w = width - left - 150
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="处置效果：每个已完成步骤前后的声量与负面占比" xmlns="http://www.w3.org/2000/svg">'
             '<title>处置效果：每个已完成步骤前后的声量与负面占比</title>']
    for i, e in enumerate(effects):
        y = 14 + i * row_h
        name = f'{e["step"]["no"]}. {e["step"]["action"][:14]}'
        parts.append(f'<text x="4" y="{y + 18}" font-size="12" fill="#222">{escape(name)}</text>')
        for j, (key, colour, label) in enumerate((("before", NEUTRAL, "前"), ("after", LINE, "后"))):
            value = e[key]["mentions"]
            share = e[key]["negative_share"]
            w = plot_w * value / peak
            yy = y + j * 18
            parts.append(f'<rect x="{left}" y="{yy}" width="{max(w, 1):.1f}" height="14" fill="{colour}"/>')
            text = f'{label}{e["window_hours"]:g}h：{value} 条，负面 {"—" if share is None else f"{share:.0%}"}'
            parts.append(f'<text x="{left + max(w, 1) + 6:.1f}" y="{yy + 12}" font-size="11" fill="#222">{escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)
