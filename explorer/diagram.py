"""Architecture diagrams as Graphviz DOT text (rendered in the browser by ``st.graphviz_chart``).

Pure functions of the plan and the analysis: the stem, each stage with its first block and the
repeated ones collapsed into "× n", the shortcut drawn beside each block, and shapes on the edges.
"""

from __future__ import annotations

from . import plan as P
from .analysis import Analysis, analyze
from .spec import ArchSpec
from .vocab import exact, shape

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


def _block_label(b: P.BlockPlan) -> str:
    convs = [op for op in b.main if isinstance(op, P.Conv)]
    if convs:
        body = " → ".join(_conv(c) for c in convs)
    else:  # forms a/b: describe one path
        paths = next(op for op in b.main if isinstance(op, P.Paths))
        first = [op for op in paths.paths[0].ops if isinstance(op, P.Conv)]
        body = f"{len(paths.paths)} paths of " + " → ".join(_conv(c) for c in first)
        body += ", summed" if paths.merge == "sum" else ", concatenated → 1×1"
    return f"{b.kind} · {body}"


def _shortcut_label(b: P.BlockPlan) -> str | None:
    if not b.residual:
        return None
    if b.shortcut is None:
        return "identity"
    if isinstance(b.shortcut, P.ShortcutA):
        return f"zero-pad to {b.shortcut.c_out}" + (f", /{b.shortcut.stride}" if b.shortcut.stride != 1 else "")
    return f"projection {_conv(b.shortcut.conv)}"


def network_dot(spec: ArchSpec, analysis: Analysis | None = None) -> str:
    """The whole network: stem, stages (first block + "× n" repeats), head, shapes on the edges."""
    analysis = analysis or analyze(spec)
    plan = P.make_plan(spec)
    out_of = {b.name: b.out_shape for b in analysis.blocks}
    lines = [_HEADER, f'  input [shape=oval, label={_q("input " + shape(analysis.input_size))}];']
    stem_ops = [_conv(op) if isinstance(op, P.Conv) else op.type for op in plan.stem]
    stem_text = "stem · " + " · ".join(
        "max pool 3×3, /2" if t == "maxpool" else "BN" if t == "bn" else "ReLU" if t == "relu" else f"conv {t}"
        for t in stem_ops
    )
    lines.append(f"  stem [label={_q(stem_text)}];")
    lines.append(f"  input -> stem [label={_q(shape(analysis.input_size))}];")
    prev, prev_shape = "stem", out_of["stem"]
    stage_totals = {s.name: s for s in analysis.stages}
    edges = []  # kept outside the clusters: a node named in a cluster's edge would join that cluster
    for s, blocks in enumerate(plan.stages):
        stage = f"layer{s + 1}"
        total = stage_totals[stage]
        lines.append(f"  subgraph cluster_{stage} {{")
        lines.append(
            f"    label={_q(f'{stage} · {len(blocks)} block(s) · {exact(total.params)} params · {exact(total.macs)} MACs')};"
            ' style="rounded"; color="#bbbbbb"; fontname="Helvetica"; fontsize=10;'
        )
        groups = [(blocks[0], 1)] + ([(blocks[1], len(blocks) - 1)] if len(blocks) > 1 else [])
        for b, count in groups:
            node = b.name.replace(".", "_")
            label = b.name if count == 1 else f"{b.name} … {blocks[-1].name}  (× {count})"
            lines.append(f"    {node} [label={_q(label + chr(10) + _block_label(b))}];")
            edges.append(f"  {prev} -> {node} [label={_q(shape(prev_shape))}];")
            short = _shortcut_label(b)
            end = node
            if short is not None:
                add = f"{node}_add"
                lines.append(f'    {add} [shape=circle, label="+", width=0.3, fixedsize=true];')
                edges.append(f"  {node} -> {add};")
                edges.append(f"  {prev} -> {add} [style=dashed, color=\"#c0392b\", label={_q(short)}];")
                end = add
            prev, prev_shape = end, out_of[blocks[-1].name if count > 1 else b.name]
        lines.append("  }")
    lines += edges
    lines.append(f'  head [label={_q(f"global avg pool → fc, {spec.num_classes}")}];')
    lines.append(f"  {prev} -> head [label={_q(shape(prev_shape))}];")
    lines.append(f'  output [shape=oval, label={_q(f"{spec.num_classes} logits")}];')
    lines.append("  head -> output;")
    lines.append("}")
    return "\n".join(lines) + "\n"


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
