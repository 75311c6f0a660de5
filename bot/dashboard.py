"""`/dashboard`: how coo is doing, as one server-rendered page (charts by pygal, inline SVG, no
script and nothing fetched from the network), and the token that opens it.

The token is COO_METRICS_TOKEN when it is set, else one coo creates on first use and keeps in
the data directory (``dashboard-token``, readable by its owner only); `coo dashboard-link`
prints the link with it. Without the token the page answers 403 and shows nothing.
"""

from __future__ import annotations

import html
import secrets
from pathlib import Path

import pygal
from pygal.style import CleanStyle

from bot.figures_view import View
from bot.settings import Settings

TOKEN_FILE = "dashboard-token"


def dashboard_token(settings: Settings) -> str:
    if settings.metrics_token:
        return settings.metrics_token
    path = Path(settings.data_dir) / TOKEN_FILE
    if path.exists():
        token = path.read_text().strip()
        if token:
            return token
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    path.touch(mode=0o600)
    path.write_text(token + "\n")
    return token


def dashboard_link(settings: Settings) -> str:
    return f"{settings.public_url.rstrip('/')}/dashboard?token={dashboard_token(settings)}"


def _config(title: str) -> dict[str, object]:
    # js=[]: pygal's tooltips script would be fetched from the internet; the page stays self-contained.
    return {"title": title, "style": CleanStyle, "js": [], "disable_xml_declaration": True, "height": 320}


def _cost_chart(view: View) -> str:
    chart = pygal.StackedBar(**_config("Model cost per day by tier/agent (USD)"))
    days = list(view.cost_by_day)
    chart.x_labels = [d.isoformat() for d in days]
    series = sorted({key for by in view.cost_by_day.values() for key in by})
    for key in series:
        chart.add(key, [round(view.cost_by_day[d].get(key, 0.0), 6) for d in days])
    if not series:
        chart.add("no model calls", [])
    return str(chart.render(is_unicode=True))


def _approval_chart(view: View) -> str:
    chart = pygal.HorizontalBar(**_config("Approval rate per agent and autonomy level (%)"))
    chart.range = (0, 100)
    for rate in view.approval_rates:
        chart.add(f"{rate.agent} ({rate.level})", [round(100 * rate.approved / rate.decided, 1)])
    if not view.approval_rates:
        chart.add("nothing decided yet", [])
    return str(chart.render(is_unicode=True))


def _queue_chart(view: View) -> str:
    chart = pygal.Bar(**_config("Jobs waiting per queue"))
    for name, n in sorted(view.depths.items()):
        chart.add(name, [n])
    if not view.depths:
        chart.add("all queues empty", [])
    return str(chart.render(is_unicode=True))


def render_dashboard(view: View) -> str:
    e = html.escape
    headlines = "\n".join(
        f'<div class="tile"><div class="label">{e(h.label)}</div>'
        f'<div class="value" data-figure="{e(h.key)}">{e(h.value)}</div></div>'
        for h in view.headlines
    )
    cost_rows = "\n".join(
        f'<tr><td>{day.isoformat()}</td><td>{e(key)}</td><td data-cost="{day.isoformat()}|{e(key)}">'
        f"${usd:.4f}</td></tr>"
        for day, by in view.cost_by_day.items()
        for key, usd in sorted(by.items())
    )
    rate_rows = "\n".join(
        f'<tr><td>{e(r.agent)}</td><td>{e(r.level)}</td><td data-rate="{e(r.agent)}|{e(r.level)}">{r.rate}</td>'
        f"<td>{r.approved} of {r.decided}</td></tr>"
        for r in view.approval_rates
    )
    breaches = "\n".join(f"<li>{e(b)}</li>" for b in view.breaches) or "<li>none</li>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>coo — dashboard</title>
<meta name="referrer" content="no-referrer">
<style>
body {{ font-family: system-ui, sans-serif; margin: 24px; color: #222; }}
.tiles {{ display: flex; flex-wrap: wrap; gap: 12px; }}
.tile {{ border: 1px solid #ddd; border-radius: 8px; padding: 12px 16px; min-width: 180px; }}
.label {{ font-size: 13px; color: #666; }} .value {{ font-size: 24px; font-weight: 600; }}
.charts {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; margin-top: 16px; }}
table {{ border-collapse: collapse; margin-top: 8px; }} td, th {{ border-bottom: 1px solid #eee; padding: 4px 10px; }}
</style></head>
<body>
<h1>coo — how it is doing</h1>
<div class="tiles">{headlines}</div>
<div class="charts">
<figure>{_cost_chart(view)}</figure>
<figure>{_approval_chart(view)}</figure>
<figure>{_queue_chart(view)}</figure>
</div>
<h2>Cost per day by tier and agent</h2>
<table><tr><th>Day</th><th>Tier/agent</th><th>Cost</th></tr>{cost_rows}</table>
<h2>Approval rate per agent and autonomy level</h2>
<table><tr><th>Agent</th><th>Level</th><th>Approved</th><th></th></tr>{rate_rows}</table>
<h2>SLA breaches</h2>
<ul>{breaches}</ul>
</body></html>
"""
