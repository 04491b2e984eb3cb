"""Architecture pictures: the whole network as SVG (drawn here, so it is the same on screen and in the download),
and one ResNeXt block per Fig. 3 form as Graphviz DOT (rendered in the browser by ``st.graphviz_chart``).

Pure functions of the plan and the analysis; user text (a network's name) is escaped, never interpreted, and
never drawn at all in the network picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from ..core import plan as P
from ..core.analysis import Analysis, analyze
from ..core.spec import ArchSpec
from ..core.vocab import METRICS, exact, multiply_adds, shape, si

_HEADER = (
    'digraph G {\n  rankdir=TB; nodesep=0.3; ranksep=0.25;\n'
    '  node [shape=box, style="rounded,filled", fillcolor="#f7f7f9", color="#888888", fontname="Helvetica", '
    'fontsize=11];\n  edge [fontname="Helvetica", fontsize=9, color="#555555"];\n'
)


def _q(text: str) -> str:
    """A DOT string literal (user text is escaped, never interpreted)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _conv(op: P.Conv) -> str:
    text = f"{op.kernel}×{op.kernel}, {op.c_out}"
    if op.stride != 1:
        text += f", /{op.stride}"
    if op.groups != 1:
        text += f", C={op.groups}"
    return text


def _wrap(parts: list[str], sep: str = " · ", width: int = 58) -> tuple[str, ...]:
    """Parts joined by ``sep`` into lines of at most about ``width`` characters (a box holds about 60)."""
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1]) + len(sep) + len(part) <= width:
            lines[-1] += sep + part
        else:
            lines.append(part)
    return tuple(lines)


def _block_label(b: P.BlockPlan) -> tuple[str, ...]:
    convs = [op for op in b.main if isinstance(op, P.Conv)]
    if convs:
        body = " → ".join(_conv(c) for c in convs)
    else:  # forms a/b: describe one path
        paths = next(op for op in b.main if isinstance(op, P.Paths))
        first = [op for op in paths.paths[0].ops if isinstance(op, P.Conv)]
        body = f"{len(paths.paths)} paths of " + " → ".join(_conv(c) for c in first)
        body += ", summed" if paths.merge == "sum" else ", concatenated → 1×1"
    extras = [f"anti-aliased ({_words(op)})" for op in b.main if isinstance(op, P.AvgPool)]
    extras += [_gate_words(op) for op in b.main if isinstance(op, P.Gate)]
    kind = f"pre-activation {b.kind}" if b.pre else b.kind
    return (f"{kind} · {body}", *_wrap(extras))


def _gate_words(gate: P.Gate) -> str:
    """'SE, 16 channels', 'ECA, 1-D kernel 5', or 'channel gate' for another kind of gate."""
    conv = next((op for op in gate.ops if isinstance(op, (P.Conv, P.ChannelConv))), None)
    if isinstance(conv, P.ChannelConv):
        return f"ECA, 1-D kernel {conv.kernel}"
    return "channel gate" if conv is None else f"SE, {conv.c_out} channels"


def _shortcut_label(b: P.BlockPlan) -> str | None:
    if not b.residual:
        return None
    if b.shortcut is None:
        return "identity"
    if isinstance(b.shortcut, P.ShortcutA):
        return f"zero-pad to {b.shortcut.c_out}" + (f", /{b.shortcut.stride}" if b.shortcut.stride != 1 else "")
    steps = [_conv(op) if isinstance(op, P.Conv) else _words(op) for op in b.shortcut.ops
             if not isinstance(op, P.BatchNorm)]
    return "projection " + " → ".join(steps)


MAX_DRAWN_BLOCKS = 150  # "every block" draws at most this many; deeper networks stay collapsed


@dataclass(frozen=True)
class _Node:
    """One box of the network picture: its lines of text, the shape it outputs, and its shortcut (if a block)."""

    key: str
    lines: tuple[str, ...]
    out_shape: tuple[int, ...]
    shortcut: str | None = None
    stage: str = ""
    members: tuple[str, ...] = ()  # the blocks a collapsed box stands for


def _count_line(params: int, macs: int, metric: str) -> str:
    return f"{exact(params)} params · {si(multiply_adds(macs, metric), METRICS[metric].unit)}"


def _nodes(spec: ArchSpec, analysis: Analysis, expanded: bool, metric: str) -> list[_Node]:
    plan = P.make_plan(spec)
    blocks = {b.name: b for b in analysis.blocks}
    stem_ops = [_words(op) for op in plan.stem]
    stem = blocks["stem"]
    nodes = [_Node("stem", ("stem", *_wrap(stem_ops), _count_line(stem.params, stem.macs, metric)),
                   stem.out_shape, members=("stem",))]
    expanded = expanded and len(plan.blocks) <= MAX_DRAWN_BLOCKS
    for s, stage in enumerate(plan.stages):
        groups = [[b] for b in stage] if expanded else [[stage[0]]] + ([list(stage[1:])] if len(stage) > 1 else [])
        for group in groups:
            first, last = group[0], group[-1]
            title = first.name if len(group) == 1 else f"{first.name} … {last.name}  (× {len(group)})"
            params = sum(blocks[b.name].params for b in group)
            macs = sum(blocks[b.name].macs for b in group)
            nodes.append(_Node(first.name, (title, *_block_label(first), _count_line(params, macs, metric)),
                               blocks[last.name].out_shape, _shortcut_label(first), plan.stage_names[s],
                               tuple(b.name for b in group)))
    head = blocks["head"]
    pre = "BN · ReLU → " if spec.order == "pre" else ""  # a pre-activation network normalizes once more
    nodes.append(_Node("head", ("head", f"{pre}global avg pool → fc, {spec.num_classes}",
                                _count_line(head.params, head.macs, metric)), head.out_shape, members=("head",)))
    return nodes


def _words(op: P.Leaf) -> str:
    """One op of the stem in a few words: 'conv 7×7, 64, /2', 'BN', 'max pool 3×3, /2'."""
    if isinstance(op, P.Conv):
        return "conv " + _conv(op)
    if isinstance(op, (P.MaxPool, P.AvgPool)):
        return f"{'max' if isinstance(op, P.MaxPool) else 'avg'} pool {op.kernel}×{op.kernel}, /{op.stride}"
    return P.OPS[op.type].label


# Geometry of the picture (px): one column of boxes, shortcuts to their right, shapes on the edges' left.
_W, _X, _BOX_W, _LINE, _PAD, _GAP, _FONT = 600, 40, 400, 17, 8, 30, 13


def network_svg(spec: ArchSpec, analysis: Analysis | None = None, *, expanded: bool = False, metric: str = "macs",
                times_ms: dict[str, float] | None = None) -> str:
    """The whole network as a standalone SVG picture, readable at normal zoom.

    Stem, each stage's blocks (repeats collapsed into "× n" unless ``expanded``), head; every box shows its
    parameters and MACs (or FLOPs); edges carry the tensor shapes; the shortcut of each block is drawn beside
    it. ``times_ms`` (measured time per block name, ``"stem"`` and ``"head"``) colours each box by its share of
    the total and writes the time in it.
    """
    analysis = analysis or analyze(spec)
    nodes = _nodes(spec, analysis, expanded, metric)
    heat: dict[str, tuple[float, str]] = {}
    if times_ms:
        total = sum(times_ms.values()) or 1.0
        biggest = max(sum(times_ms.get(m, 0.0) for m in n.members) for n in nodes) or 1.0
        for n in nodes:
            t = sum(times_ms.get(m, 0.0) for m in n.members)
            heat[n.key] = (t / biggest, f"{t:,.3g} ms measured · {t / total:.0%} of the time")
    out: list[str] = []
    y = 10
    cx = _X + _BOX_W / 2
    out.append(_oval(cx, y + 14, f"input {shape(analysis.input_size)}"))
    y += 28
    stage_top: dict[str, float] = {}
    stage_bottom: dict[str, float] = {}
    prev_shape = analysis.input_size
    for node in nodes:
        if node.stage and node.stage not in stage_top:  # a stage's frame opens with its own header line
            out.append(_edge(cx, y, y + 12, ""))
            y += 12
            stage_top[node.stage] = y
            y += 20
            out.append(_edge(cx, y - 20, y + _GAP, shape(prev_shape)))
        else:
            out.append(_edge(cx, y, y + _GAP, shape(prev_shape)))
        y += _GAP
        fill, extra = "#f7f7f9", ()
        if node.key in heat:
            share, text = heat[node.key]
            fill, extra = _heat_colour(share), (text,)
        lines = (*node.lines, *extra)
        h = _PAD * 2 + _LINE * len(lines)
        out.append(f'<rect x="{_X}" y="{y}" width="{_BOX_W}" height="{h}" rx="6" fill="{fill}" stroke="#888"/>')
        for i, text in enumerate(lines):
            weight = ' font-weight="600"' if i == 0 else ""
            out.append(f'<text x="{_X + 10}" y="{y + _PAD + _LINE * (i + 1) - 4}"{weight}>{escape(text)}</text>')
        top, y = y, y + h
        if node.shortcut is not None:  # the sum below the block, the shortcut from above it
            out.append(_edge(cx, y, y + 16, ""))
            y += 16
            out.append(f'<circle cx="{cx}" cy="{y + 10}" r="10" fill="#fff" stroke="#555"/>'
                       f'<text x="{cx}" y="{y + 15}" text-anchor="middle">+</text>')
            sx = _X + _BOX_W + 30
            out.append(f'<path d="M {cx} {top - 12} H {sx} V {y + 10} H {cx + 10}" fill="none" stroke="#c0392b" '
                       f'stroke-dasharray="5,4" marker-end="url(#arrow)"/>')
            steps = node.shortcut.split(" → ")  # one step a line: the column right of the boxes is narrow
            y0 = (top + y) / 2 + 4 - 7 * (len(steps) - 1)
            out.append(f'<text x="{sx + 6}" y="{y0}" fill="#c0392b" font-size="11">' + "".join(
                f'<tspan x="{sx + 6}" dy="{0 if i == 0 else 14}">{escape(step + (" →" if i < len(steps) - 1 else ""))}'
                '</tspan>' for i, step in enumerate(steps)) + '</text>')
            y += 20
        if node.stage:
            stage_bottom[node.stage] = y + 6
        prev_shape = node.out_shape
    out.append(_edge(cx, y, y + _GAP, shape(prev_shape)))
    y += _GAP
    out.append(_oval(cx, y + 14, f"{spec.num_classes} logits"))
    y += 40
    frames = []
    totals = {s.name: s for s in analysis.stages}
    for stage, top in stage_top.items():
        t = totals[stage]
        frames.append(f'<rect x="{_X - 20}" y="{top}" width="{_W - _X}" height="{stage_bottom[stage] - top}" rx="10" '
                      f'fill="none" stroke="#bbb"/><text x="{_X + _BOX_W / 2 + 12}" y="{top + 15}" font-size="12" fill="#555" '
                      f'font-weight="600">{escape(f"{stage} · {_count_line(t.params, t.macs, metric)}")}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W + 40}" height="{y}" viewBox="0 0 {_W + 40} {y}" '
            f'font-family="Helvetica, Arial, sans-serif" font-size="{_FONT}" fill="#222">'
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>'
            + "".join(frames) + "".join(out) + "</svg>")


def _edge(x: float, y0: float, y1: float, label: str) -> str:
    """An arrow down from y0 to y1, its tensor shape to its left (the shortcuts run on the right)."""
    text = (f'<text x="{x - 8}" y="{(y0 + y1) / 2 + 4}" font-size="11" fill="#555" text-anchor="end">'
            f'{escape(label)}</text>') if label else ""
    return f'<line x1="{x}" y1="{y0}" x2="{x}" y2="{y1 - 2}" stroke="#555" marker-end="url(#arrow)"/>{text}'


def _oval(cx: float, cy: float, text: str) -> str:
    return (f'<ellipse cx="{cx}" cy="{cy}" rx="{max(60, 4.2 * len(text) + 12):.0f}" ry="13" fill="#fff" stroke="#888"/>'
            f'<text x="{cx}" y="{cy + 4}" text-anchor="middle">{escape(text)}</text>')


def _heat_colour(share: float) -> str:
    """White (0) to a warm orange (1)."""
    share = min(max(share, 0.0), 1.0)
    r, g, b = (255, int(255 - 120 * share), int(255 - 200 * share))
    return f"#{r:02x}{g:02x}{b:02x}"


def block_dot(form: str, cardinality: int, d: int, c_in: int, c_out: int | None = None, shown: int = 3) -> str:
    """One bottleneck block in a Fig. 3 form, channel counts on the edges; long path lists are elided."""
    c_out = c_in if c_out is None else c_out
    width = cardinality * d
    lines = [_HEADER.replace("rankdir=TB", "rankdir=TB"), f'  x [shape=oval, label={_q(f"input, {c_in}")}];']
    lines.append('  add [shape=circle, label="+", width=0.3, fixedsize=true];')
    lines.append(f'  y [shape=oval, label={_q(f"output, {c_out}")}];')
    if form == "c":
        lines += [
            f"  c1 [label={_q(f'1×1, {width}')}];",
            f"  c2 [label={_q(f'3×3, {width}, groups = {cardinality}')}];",
            f"  c3 [label={_q(f'1×1, {c_out}')}];",
            f"  x -> c1 [label={_q(str(c_in))}]; c1 -> c2 [label={_q(str(width))}];",
            f"  c2 -> c3 [label={_q(str(width))}]; c3 -> add [label={_q(str(c_out))}];",
        ]
    else:
        indices = list(range(cardinality))
        if cardinality > shown + 1:
            indices = indices[: shown - 1] + [None, cardinality - 1]  # type: ignore[list-item]
        merge = "sum" if form == "a" else "cat"
        merge_label = "Σ (sum)" if form == "a" else f"concatenate, {width}"
        lines.append(f"  {merge} [shape=box, label={_q(merge_label)}];")
        for i in indices:
            if i is None:
                lines.append(f'  dots [shape=plaintext, style="", label={_q(f"… {cardinality - shown} more paths …")}];')
                lines.append("  x -> dots [style=dotted]; dots -> " + merge + " [style=dotted];")
                continue
            steps = [f"1×1, {d}", f"3×3, {d}"] + ([f"1×1, {c_out}"] if form == "a" else [])
            names = [f"p{i}_{k}" for k in range(len(steps))]
            for n, text in zip(names, steps):
                lines.append(f"  {n} [label={_q(text)}];")
            lines.append(f"  x -> {names[0]} [label={_q(str(c_in))}];")
            for a, b in zip(names, names[1:]):
                lines.append(f"  {a} -> {b} [label={_q(str(d))}];")
            lines.append(f"  {names[-1]} -> {merge} [label={_q(str(c_out if form == 'a' else d))}];")
        if form == "a":
            lines.append(f"  {merge} -> add [label={_q(str(c_out))}];")
        else:
            lines.append(f"  c3 [label={_q(f'1×1, {c_out}')}];")
            lines.append(f"  {merge} -> c3 [label={_q(str(width))}]; c3 -> add [label={_q(str(c_out))}];")
    lines.append('  x -> add [style=dashed, color="#c0392b", label="identity"];')
    lines.append(f"  add -> y [label={_q(str(c_out))}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
