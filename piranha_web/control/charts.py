"""How /control shows figures: sparkline points (an SVG polyline), clock times, rates and durations."""

from __future__ import annotations

from datetime import datetime, timezone

WIDTH, HEIGHT = 120, 28


MIN_SPAN = 60.0     # seconds: a young history is drawn over at least a minute, not squeezed to the right


def polyline(points: list[list[float]], column: int, now: float, seconds: float) -> str:
    """"x,y x,y …" of `column` of each [time, ...] point over the last `seconds` (newest at the right); a
    history shorter than that is drawn over its own span (at least MIN_SPAN)."""
    shown = [p for p in points if p[0] >= now - seconds and p[column] is not None]
    if not shown:
        return ""
    seconds = min(seconds, max(MIN_SPAN, now - shown[0][0]))
    top = max(p[column] for p in shown) or 1
    coords = []
    for point in shown:
        x = WIDTH - (now - point[0]) / seconds * WIDTH
        y = HEIGHT - 1 - point[column] / top * (HEIGHT - 2)
        coords.append(f"{max(0.0, x):.1f},{y:.1f}")
    return " ".join(coords)


def clock(epoch: float | None) -> str:
    """HH:MM:SS UTC of a wall-clock time, "—" when unknown."""
    if epoch is None:
        return "—"
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%H:%M:%S")


def per_second(value: float | None, unit: str = "B") -> str:
    """A rate with a binary-free SI prefix: 1.2 kB/s, 3.4 MB/s; "—" when unknown."""
    if value is None:
        return "—"
    for prefix in ("", "k", "M", "G"):
        if abs(value) < 1000 or prefix == "G":
            return f"{value:.0f} {prefix}{unit}/s" if prefix == "" else f"{value:.1f} {prefix}{unit}/s"
        value /= 1000
    return f"{value} {unit}/s"


def duration(seconds: float | None) -> str:
    """3d 4h, 5h 12m, 4m 3s, 2.5 s; "—" when unknown."""
    if seconds is None:
        return "—"
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s"
