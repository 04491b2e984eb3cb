"""Build view of the spec file and the exports: JSON download and upload, standalone PyTorch code, ONNX."""

from __future__ import annotations

from functools import partial

import streamlit as st

from explorer import Analysis, ArchSpec
from explorer.build.export import export_python, onnx_available
from explorer.core.bounds import SPEC_FILE_LIMIT
from explorer.core.vocab import md_text, slug
from ui import cache, editor

UPLOAD = "build.upload"
UPLOAD_NOTE = "build.upload_note"


def _uploaded() -> None:
    file = st.session_state.get(UPLOAD)
    if file is not None:
        problem = editor.load_upload(file)
        st.session_state[UPLOAD_NOTE] = (False, problem) if problem else (True, f"Loaded {md_text(file.name)}.")


def spec_and_export(spec: ArchSpec, analysis: Analysis) -> None:
    """The spec as JSON; downloads of it, of standalone code and of ONNX; loading a spec file."""
    st.markdown("**The spec** — JSON is the file format: save it, share it, load it again.")
    name = slug(spec.name)
    c1, c2, c3 = st.columns(3)
    c1.download_button("Spec (JSON)", spec.to_json(), f"{name}.json", "application/json", key="build.spec_download",
                       icon=":material/data_object:")
    c2.download_button("PyTorch code (.py)", export_python(spec), f"{name}.py", "text/x-python",
                       key="build.code_download", icon=":material/code:",
                       help="A standalone file that rebuilds this network with only torch: the explorer's own module "
                       "classes and build(); the same state_dict keys as torchvision where torchvision has the model.")
    if onnx_available():
        c3.download_button("ONNX", partial(cache.onnx_bytes, spec.to_json()), f"{name}.onnx",
                           "application/octet-stream", key="build.onnx_download", icon=":material/share:",
                           help="the network with random weights, opset 18 (refused above the memory budget)")
    else:
        c3.caption("ONNX export needs the optional `onnx` and `onnxscript` packages (`pip install onnx onnxscript`); "
                   "JSON and PyTorch code work without them.")
    st.file_uploader(f"Load a spec (a .json file of at most {SPEC_FILE_LIMIT})", key=UPLOAD, on_change=_uploaded,
                     max_upload_size=2, help="Checked field by field; a bad file leaves your architecture unchanged.")
    note = st.session_state.pop(UPLOAD_NOTE, None)  # shown once, beside the uploader: the next action clears it
    if note is not None:
        ok, text = note
        if ok:
            st.success(text, icon=":material/check:")
        else:
            st.error(f"**Not loaded** — {text}. Your architecture is unchanged.", icon=":material/error:")
    st.code(spec.to_json(), language="json")
