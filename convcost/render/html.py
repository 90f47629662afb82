"""`convcost report`: one self-contained HTML file — the network drawn as SVG (render.layout),
zoom and pan, a click on a layer shows its figures; the per-layer table, sortable; totals and
warnings. No network access: every style and script is inline, the data one JSON block. Every
name is data: HTML-escaped in the markup, and ``<`` escaped inside the JSON."""

from __future__ import annotations

import json
import math
from html import escape
from typing import TYPE_CHECKING, Any

from ..analysis.report import Report
from ..model.program import Program
from ..model.runs import dilated_runs
from . import fmt
from .graphtext import fill, fills
from .layout import HEIGHT, WIDTH, layout

if TYPE_CHECKING:
    from ..analysis.comparison import Comparison
    from ..device.roofline import Prediction

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222}
header{padding:12px 20px;border-bottom:1px solid #ddd}h1{font-size:20px;margin:0 0 4px}
main{display:flex;height:70vh;border-bottom:1px solid #ddd}
#graph{flex:1;overflow:hidden;background:#fafafa;cursor:grab}#graph svg{width:100%;height:100%}
#detail{width:300px;padding:12px 16px;overflow:auto;border-left:1px solid #ddd}
#detail dt{color:#666;font-size:12px}#detail dd{margin:0 0 6px;font-variant-numeric:tabular-nums}
.node rect{stroke:#666;stroke-width:1;rx:6}.node text{font-size:11px;pointer-events:none}
.node.input rect{rx:22}.node.output rect{stroke-width:3}.node.sel rect{stroke:#06c;stroke-width:3}
.node.grids rect{stroke:#c00;stroke-width:3;stroke-dasharray:5 3}.node{cursor:pointer}.edge{stroke:#999;fill:none;marker-end:url(#arrow)}
section{padding:12px 20px}table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{padding:2px 8px;border-bottom:1px solid #eee;text-align:right}th{cursor:pointer;background:#f4f4f4}
td:nth-child(-n+2),th:nth-child(-n+2){text-align:left}tr.sel{background:#def}
.warn{color:#a50}
"""

SCRIPT = r"""
(function(){
const data=JSON.parse(document.getElementById('data').textContent);
const svg=document.querySelector('#graph svg');let vb=svg.viewBox.baseVal;
const detail=document.getElementById('detail');
function show(i){
  document.querySelectorAll('.sel').forEach(e=>e.classList.remove('sel'));
  const d=data.layers[i];if(!d)return;
  document.querySelector('.node[data-i="'+i+'"]').classList.add('sel');
  const row=document.querySelector('tr[data-i="'+i+'"]');if(row)row.classList.add('sel');
  detail.replaceChildren();const h=document.createElement('h2');h.textContent=d.name;detail.append(h);
  const dl=document.createElement('dl');
  for(const [k,v] of Object.entries(d.shown)){const dt=document.createElement('dt');dt.textContent=k;
    const dd=document.createElement('dd');dd.textContent=v;dl.append(dt,dd);}
  detail.append(dl);
}
svg.addEventListener('click',e=>{const n=e.target.closest('.node[data-i]');if(n)show(n.dataset.i);});  // one listener, any size
document.querySelector('#layers tbody').addEventListener('click',e=>{const r=e.target.closest('tr[data-i]');if(r)show(r.dataset.i);});
svg.addEventListener('wheel',e=>{e.preventDefault();const k=e.deltaY>0?1.15:1/1.15;
  const p=svg.createSVGPoint();p.x=e.clientX;p.y=e.clientY;const q=p.matrixTransform(svg.getScreenCTM().inverse());
  vb.x=q.x-(q.x-vb.x)*k;vb.y=q.y-(q.y-vb.y)*k;vb.width*=k;vb.height*=k;},{passive:false});
let drag=null;svg.addEventListener('mousedown',e=>{drag={x:e.clientX,y:e.clientY};});
window.addEventListener('mouseup',()=>{drag=null;});
svg.addEventListener('mousemove',e=>{if(!drag)return;const s=vb.width/svg.clientWidth;
  vb.x-=(e.clientX-drag.x)*s;vb.y-=(e.clientY-drag.y)*s;drag={x:e.clientX,y:e.clientY};});
document.querySelectorAll('th').forEach((th,c)=>th.addEventListener('click',()=>{
  const body=document.querySelector('#layers tbody');const rows=[...body.rows];const up=th.dataset.up!=='1';th.dataset.up=up?'1':'0';
  rows.sort((a,b)=>{const x=a.cells[c].dataset.v,y=b.cells[c].dataset.v;
    const r=(x!==undefined&&y!==undefined)?(+x)-(+y):a.cells[c].textContent.localeCompare(b.cells[c].textContent);return up?r:-r;});
  body.append(...rows);}));
{const full=vb.width,w=Math.max(full,900);  // start at the top, boxes near their natural size
 vb.x=(full-w)/2;vb.y=0;vb.width=w;vb.height=w*svg.clientHeight/Math.max(svg.clientWidth,1);}
const m=location.hash.match(/^#layer=(\d+)$/);if(m)show(m[1]);  // a link to one layer: report.html#layer=12
document.body.dataset.ready='1';
})();
"""

BOLD = ' font-weight="bold"'
COLUMNS = ("layer", "kind", "output", "params", "MACs", "activations", "RF /stride", "coverage")


def _shown(r: Any, prediction: Prediction | None) -> dict[str, str]:
    shown = {"kind": r.kind, "path": r.path, "output": fmt.shape(r.output), "params": f"{r.params:,}", "MACs": f"{r.macs:,}",
             "activations": f"{r.activations:,}", "bytes moved": f"{r.bytes_moved:,}", "receptive field /stride": fmt.rf_text(r.rf),
             "coverage": fmt.percent(r.coverage)}  # fmt: skip
    if prediction is not None:
        p = prediction.layers[r.path]
        shown["predicted"] = f"{p.ms:.4g} ms ({p.bound} bound)"
    return shown


def _json(data: Any) -> str:
    """JSON that cannot end its <script> block: every < written as \\u003c."""
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


def _svg(report: Report, program: Program, prediction: Prediction | None) -> str:
    drawn = layout(program)
    n = len(program.inputs)
    colours = fills(report, prediction)
    outputs = set(program.outputs)
    gridding = {name for run in dilated_runs(program) if run.grids for name in run.names}
    out = [f'<svg viewBox="0 0 {drawn.width:g} {drawn.height:g}" xmlns="http://www.w3.org/2000/svg" role="img">',
           '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto">'
           '<path d="M0,0L8,4L0,8z" fill="#999"/></marker></defs>']  # fmt: skip
    for a, b in drawn.edges:
        x1, y1 = drawn.boxes[a].x + WIDTH / 2, drawn.boxes[a].y + HEIGHT
        x2, y2 = drawn.boxes[b].x + WIDTH / 2, drawn.boxes[b].y
        mid = (y1 + y2) / 2
        out.append(f'<path class="edge" d="M{x1:g},{y1:g}C{x1:g},{mid:g} {x2:g},{mid:g} {x2:g},{y2:g}">'
                   f"<title>{escape(fmt.shape(program.shape(a)))}</title></path>")  # fmt: skip
    for t, box in enumerate(drawn.boxes):
        if t < n:
            name, shape = program.inputs[t]
            lines, colour, cls, index = [name, fmt.shape(shape)], fill(0), "node input", ""
        else:
            r = report.layers[t - n]
            lines = [r.name, f"{r.kind} → {fmt.shape(r.output)}", f"{fmt.count(r.params)} params · {fmt.count(r.macs)} MACs"]
            colour, cls, index = colours[t - n], "node", f' data-i="{t - n}"'
        cls += " output" if t in outputs else ""
        cls += " grids" if t >= n and report.layers[t - n].name in gridding else ""
        texts = "".join(f'<text x="{box.x + 8:g}" y="{box.y + 15 + 14 * k:g}"{BOLD if not k else ""}>{escape(_clip(line))}</text>'
                        for k, line in enumerate(lines))  # fmt: skip
        out.append(f'<g class="{cls}"{index}><title>{escape(lines[0])}</title>'
                   f'<rect x="{box.x:g}" y="{box.y:g}" width="{WIDTH}" height="{HEIGHT}" fill="{colour}"/>{texts}</g>')  # fmt: skip
    return "\n".join(out + ["</svg>"])


def _roofline(report: Report, prediction: Prediction) -> str:
    """The roofline chart (log–log): attained FLOP/s against FLOPs per byte, a point per layer that
    computes (its title its name), under the device's memory and compute roofs."""
    peak, bandwidth = prediction.peak, prediction.profile.bandwidth
    points = []
    for r in report.layers:
        p = prediction.layers[r.path]
        if r.macs and p.ms > 0 and p.intensity:
            points.append((r.name, p.intensity, 2 * r.macs / (p.ms / 1000), p.bound))
    if not points:
        return ""
    ridge = peak / bandwidth
    lo_x = 10 ** math.floor(math.log10(min(min(x for _, x, _, _ in points), ridge)))
    hi_x = 10 ** math.ceil(math.log10(max(max(x for _, x, _, _ in points), ridge) * 1.01))
    lo_y = 10 ** math.floor(math.log10(min(min(y for _, _, y, _ in points), bandwidth * lo_x)))
    hi_y = 10 ** math.ceil(math.log10(peak * 1.01))
    w, h, left, bottom = 640, 360, 70, 40

    def x(v: float) -> float:
        return left + (w - left - 10) * (math.log10(v) - math.log10(lo_x)) / (math.log10(hi_x) - math.log10(lo_x))

    def y(v: float) -> float:
        return (h - bottom) - (h - bottom - 10) * (math.log10(v) - math.log10(lo_y)) / (math.log10(hi_y) - math.log10(lo_y))

    out = [f'<svg id="roofline" viewBox="0 0 {w} {h}" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg" role="img">',
           f'<path d="M{x(lo_x):.1f},{y(bandwidth * lo_x):.1f}L{x(ridge):.1f},{y(peak):.1f}L{x(hi_x):.1f},{y(peak):.1f}" '
           'fill="none" stroke="#333" stroke-width="2"/>']  # fmt: skip
    for k in range(round(math.log10(lo_x)), round(math.log10(hi_x)) + 1):
        out.append(f'<text x="{x(10**k):.1f}" y="{h - bottom + 16}" font-size="11" text-anchor="middle">10{_sup(k)}</text>')
    for k in range(round(math.log10(lo_y)), round(math.log10(hi_y)) + 1):
        out.append(f'<text x="{left - 6}" y="{y(10**k) + 4:.1f}" font-size="11" text-anchor="end">10{_sup(k)}</text>')
    out.append(f'<text x="{(left + w) / 2}" y="{h - 6}" font-size="12" text-anchor="middle">FLOPs per byte moved</text>')
    out.append(f'<text x="14" y="{(h - bottom) / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 {(h - bottom) / 2})">'
               "FLOP/s predicted</text>")  # fmt: skip
    for name, ix, iy, bound in points:
        colour = "#e6781e" if bound == "compute" else "#3a7bd5"
        out.append(f'<circle class="layer" cx="{x(ix):.1f}" cy="{y(iy):.1f}" r="4" fill="{colour}" fill-opacity="0.7">'
                   f"<title>{escape(name)}: {ix:.3g} FLOPs/byte, {iy:.3g} FLOP/s ({bound} bound)</title></circle>")  # fmt: skip
    return "\n".join(out + ["</svg>"])


def _sup(k: int) -> str:
    return str(k).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


def _clip(line: str, most: int = 30) -> str:
    """A box holds about 30 characters: a longer name keeps its end (the title shows it whole)."""
    return line if len(line) <= most else "…" + line[-(most - 1) :]


def _table(report: Report) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in COLUMNS)
    rows = []
    for i, r in enumerate(report.layers):
        cells = [(r.name, None), (r.kind, None), (fmt.shape(r.output), r.activations), (f"{r.params:,}", r.params),
                 (f"{r.macs:,}", r.macs), (f"{r.activations:,}", r.activations),
                 (fmt.rf_text(r.rf), r.rf.size[0] if r.rf else -1), (fmt.percent(r.coverage), float(r.coverage or 0))]  # fmt: skip
        tds = "".join(f"<td>{escape(text)}</td>" if v is None else f'<td data-v="{v}">{escape(text)}</td>' for text, v in cells)
        rows.append(f'<tr data-i="{i}">{tds}</tr>')
    return f'<table id="layers"><thead><tr>{head}</tr></thead><tbody>\n' + "\n".join(rows) + "\n</tbody></table>"


def _designs(comparison: Comparison) -> str:
    """compare's summary: the standard design beside its rewrites, and what each says in words."""
    from .compare import _columns, summary_lines, summary_rows

    head = "".join(f"<th>{escape(c.header.replace(chr(10), ' '))}</th>" for c in _columns(comparison))
    rows = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in summary_rows(comparison, wrap=False))
    said = "".join(f"<p>{escape(line)}</p>" for line in summary_lines(comparison))
    return f'<section><h2>Designs</h2><table id="designs"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{said}</section>'


def report_html(report: Report, program: Program, prediction: Prediction | None = None, comparison: Comparison | None = None) -> str:
    """The whole page; with ``comparison``, the designs beside the standard one (drawn)."""
    t = report.totals
    heading = f"input {fmt.shape(report.input)}, batch {report.batch}, {report.dtype}"
    totals = (f"params {t.params:,} · MACs {t.macs:,} · FLOPs {t.flops:,} · peak memory {fmt.nbytes(t.peak_memory_bytes)}"
              f" · bytes moved {fmt.nbytes(t.bytes_moved)}")  # fmt: skip
    if prediction is not None:
        totals += f" · predicted {prediction.total_ms:.4g} ms on {prediction.profile.name}"
    warnings = "".join(f'<p class="warn">⚠ {escape(w)}</p>' for w in report.warnings)
    data = {"model": report.model, "layers": [{"name": r.name, "shown": _shown(r, prediction)} for r in report.layers]}
    by = "predicted time" if prediction is not None else "MACs"
    chart = _roofline(report, prediction) if prediction is not None else ""
    designs = _designs(comparison) if comparison is not None else ""
    roofline = (f"<section><h2>Roofline: {escape(prediction.profile.name)}, {escape(report.dtype)}</h2>"
                f'<p style="color:#666;font-size:12px">orange: compute bound · blue: memory bound · hover a point for its layer</p>{chart}</section>'
                if chart and prediction is not None else "")  # fmt: skip
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{escape(report.model)} — convcost</title><style>{STYLE}</style></head>
<body>
<header><h1>{escape(report.model)}</h1><div>{escape(heading)}</div><div>{escape(totals)}</div>
<div style="color:#666;font-size:12px">fill: share of the costliest layer's {by} · red dashes: a run of dilated convs that grids · scroll to zoom, drag to pan, click a layer</div></header>
<main><div id="graph">{_svg(report, program, prediction)}</div><aside id="detail">Click a layer to see its figures.</aside></main>
{designs}{roofline}<section>{warnings}<h2>Layers</h2>{_table(report)}</section>
<script type="application/json" id="data">{_json(data)}</script>
<script>{SCRIPT}</script>
</body></html>
"""
