"""An SVG of the guest's heartbeat through the move: the downtime visible at a glance.

x: the guest's own uptime; y: the delay of each beat beyond the heartbeat period (ms, log scale);
colour: the dom0 that logged it; a red line where a new boot starts (the guest was restarted).
"""

from __future__ import annotations

import math
from pathlib import Path

from .heartbeat import Beat

_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"]


def heartbeat_svg(beats: list[Beat], period: float, path: Path, title: str) -> Path:
    width, height, margin = 760, 280, 50
    boots: list[str] = []
    nodes: list[str] = []
    for beat in beats:
        if beat.boot not in boots:
            boots.append(beat.boot)
        if beat.node not in nodes:
            nodes.append(beat.node)
    ordered = sorted({(b.boot, b.n): b for b in beats}.values(), key=lambda b: (boots.index(b.boot), b.n))
    # A restarted guest's clock starts again from zero: lay the boots end to end.
    offsets, offset = {}, 0.0
    for boot in boots:
        offsets[boot] = offset
        offset += max((b.up for b in ordered if b.boot == boot), default=0.0) + 1.0
    span = max(offset, 1.0)
    points = []
    for previous, current in zip(ordered, ordered[1:], strict=False):
        if previous.boot != current.boot:
            continue
        delay_ms = max((current.up - previous.up - period * (current.n - previous.n)) * 1000, 0.1)
        points.append((offsets[current.boot] + current.up, delay_ms, current.node))
    top = max([p[1] for p in points] + [1000.0])

    def x(value: float) -> float:
        return margin + (width - 2 * margin) * value / span

    def y(delay: float) -> float:
        return height - margin - (height - 2 * margin) * math.log10(delay / 0.1) / math.log10(top / 0.1)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
        f'<text x="{margin}" y="20" font-size="13">{_escape(title)}</text>',
        f'<line x1="{margin}" y1="{height - margin}" x2="{width - margin}" y2="{height - margin}" stroke="#444"/>',
        f'<line x1="{margin}" y1="{margin}" x2="{margin}" y2="{height - margin}" stroke="#444"/>',
        f'<text x="{width / 2}" y="{height - 15}" text-anchor="middle">guest uptime (s)</text>',
        f'<text x="12" y="{height / 2}" transform="rotate(-90 12 {height / 2})" text-anchor="middle">beat delay (ms)</text>',
    ]
    for tick in (1, 10, 100, 1000, 10000):
        if tick <= top:
            parts.append(f'<text x="{margin - 4}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick}</text>')
    for boot in boots[1:]:
        parts.append(
            f'<line x1="{x(offsets[boot]):.1f}" y1="{margin}" x2="{x(offsets[boot]):.1f}" y2="{height - margin}" stroke="red" stroke-dasharray="4"/>'
        )
        parts.append(f'<text x="{x(offsets[boot]) + 3:.1f}" y="{margin + 10}" fill="red">reboot</text>')
    for px, delay, node in points:
        colour = _COLOURS[nodes.index(node) % len(_COLOURS)]
        parts.append(f'<circle cx="{x(px):.1f}" cy="{y(delay):.1f}" r="2" fill="{colour}"/>')
    for index, node in enumerate(nodes):
        parts.append(
            f'<text x="{width - margin - 60}" y="{margin + 14 * index}" fill="{_COLOURS[index % len(_COLOURS)]}">{_escape(node)}</text>'
        )
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")
    return path


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
