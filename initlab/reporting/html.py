"""``report.html``: one self-contained page of a results folder — the resolved experiment file,
the tables its command printed, the verdict and the pictures, embedded (no network, no script).

The tables are the terminal's, recorded by Rich and exported as HTML with inline styles, so the
page shows exactly what ``initlab report`` prints; pictures are PNGs inlined as data: URIs.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.terminal_theme import TerminalTheme

from initlab.reporting import replay
from initlab.reporting.folder import atomic_write

PAGE = "report.html"
COLUMNS = 110  # the tables' width on the page: fits a laptop screen and an A4 page landscape
# Rich's light terminal theme, with its colours darkened enough to read on white paper
THEME = TerminalTheme((255, 255, 255), (30, 30, 30),
                      [(30, 30, 30), (170, 0, 0), (0, 120, 0), (140, 100, 0), (0, 60, 170),
                       (140, 0, 140), (0, 110, 130), (90, 90, 90)],
                      [(110, 110, 110), (200, 0, 0), (0, 150, 0), (170, 120, 0), (0, 80, 210),
                       (170, 0, 170), (0, 140, 160), (60, 60, 60)])
TITLES = {"decision_boundary": "Decision boundaries", "cost": "Cost during training",
          "layers": "Per-layer statistics", "depth": "Signal through depth",
          "histograms": "Activation histograms"}
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1e1e1e;
       max-width: 1180px; margin: 2rem auto; padding: 0 1.5rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
.meta { color: #555; margin-top: 0; }
.verdict { background: #f3f7ff; border-left: 4px solid #3060c0; padding: .6rem 1rem; }
.verdict p { margin: .2rem 0; }
pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
      font-size: 12.5px; line-height: 1.25; overflow-x: auto; background: #fff; }
pre.terminal { border: 1px solid #e4e4e4; padding: .8rem; }
details pre { background: #fafafa; padding: .6rem; border: 1px solid #eee; }
figure { margin: 1.2rem 0; break-inside: avoid; page-break-inside: avoid; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: .9rem; }
@media print {
  body { max-width: none; margin: 0; font-size: 11pt; }
  pre { font-size: 8pt; white-space: pre-wrap; overflow: visible; }
  details > pre { display: block; }
  h2 { break-after: avoid; page-break-after: avoid; }
}
"""


def terminal_html(saved: Any) -> str:
    """The command's tables as a ``<pre>`` block with inline styles (Rich's HTML export)."""
    console = Console(file=io.StringIO(), record=True, width=COLUMNS, force_terminal=True,
                      color_system="truecolor", no_color=False, legacy_windows=False)
    replay.tables(console, saved)
    return console.export_html(theme=THEME, inline_styles=True,
                               code_format='<pre class="terminal">{code}</pre>')


def _figure(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    title = TITLES.get(path.stem, path.stem.replace("_", " "))
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(title)}">'
            f"<figcaption>{html.escape(title)} ({html.escape(path.name)}; an SVG beside it)"
            "</figcaption></figure>")


def _verdict(saved: Any) -> str:
    if saved.kind != "compare" or not saved.compare.verdict:
        return ""
    lines = "".join(f"<p>{html.escape(line)}</p>" for line in saved.compare.verdict)
    return f'<h2>Verdict</h2><div class="verdict">{lines}</div>'


def page(saved: Any, pictures: list[Path]) -> str:
    """The whole page as text: title, verdict, pictures (PNGs only), tables, experiment file."""
    name = (saved.probe_config.name if saved.kind == "probe"
            else saved.run.plan.config.name)
    config_text = (saved.folder / "config.yaml").read_text(encoding="utf-8")
    figures = "".join(_figure(p) for p in pictures if p.suffix == ".png")
    return "".join([
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>initlab {saved.kind}: {html.escape(name)}</title><style>{STYLE}</style>",
        "</head><body>",
        f"<h1>initlab {saved.kind}: {html.escape(name)}</h1>",
        f'<p class="meta">{html.escape(str(saved.folder))} · {html.escape(saved.device)}</p>',
        _verdict(saved),
        f"<h2>Pictures</h2>{figures}" if figures else "",
        f"<h2>Tables</h2>{terminal_html(saved)}",
        "<h2>Experiment file</h2><details open><summary>config.yaml</summary>",
        f"<pre>{html.escape(config_text)}</pre></details>",
        "</body></html>\n",
    ])


def write(saved: Any, pictures: list[Path]) -> Path:
    """Write ``report.html`` into the saved folder (atomically); returns its path."""
    path = saved.folder / PAGE
    atomic_write(path, page(saved, pictures).encode("utf-8"))
    return path
