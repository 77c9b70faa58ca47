"""Pages written from the code at build time: the config schema, the server's API, the examples gallery."""

import ast
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.dirname(HERE)
ROOT = os.path.dirname(DOCS)
GENERATED = os.path.join(DOCS, "generated")


def _write(name, text):
    os.makedirs(GENERATED, exist_ok=True)
    path = os.path.join(GENERATED, name)
    old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
    if old != text:  # unchanged files keep their time: Sphinx rebuilds only what changed
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def _table(header, rows):
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    rule = "  ".join("=" * w for w in widths)
    lines = [rule, "  ".join(str(c).ljust(w) for c, w in zip(header, widths)), rule]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join([*lines, rule, ""])


def config_schema_page():
    from shendu.config import SCHEMA, Section

    rows = []

    def walk(section, prefix):
        for key, field in section.fields.items():
            path = prefix + key
            if isinstance(field, Section):
                rows.append((f"``{path}``", "a section" + (" (may be null)" if field.nullable else ""), ""))
                walk(field, path + ".")
            else:
                default = json.dumps(field.default, ensure_ascii=False)
                if len(default) > 40:
                    default = "(see below)"
                rows.append((f"``{path}``", field.describe(), f"``{default}``"))

    walk(SCHEMA, "")
    text = ["Config schema", "=============", "",
            "Every key a ``shendu`` config file (YAML or JSON) may hold, what it accepts and its default. "
            "Unknown keys are refused with the closest known key named; ``--set KEY=VALUE`` overrides any of "
            "them on the command line. Written from ``shendu.config.SCHEMA`` at build time.", "",
            _table(("key", "accepts", "default"), rows), "",
            "The default ``model.layers`` (the seed MLP):", "", ".. code-block:: json", ""]  # fmt: skip
    layers = json.dumps(SCHEMA.fields["model"].fields["layers"].default, indent=2)
    text += ["   " + line for line in layers.splitlines()]
    _write("config.rst", "\n".join(text) + "\n")


def server_api_page():
    from shendu import nn
    from shendu.serve.app import create_app

    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))  # the schema is the same for every model
    schema = create_app(model, input_shape=(784,), title="shendu model server").openapi()
    text = ["Server API", "==========", "",
            "``shendu serve MODEL_DIR`` answers these requests (from the server's own OpenAPI schema, which a "
            "running server also serves at ``/openapi.json`` with an interactive page at ``/docs``).", ""]  # fmt: skip
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            title = f"{method.upper()} {path}"
            text += [title, "-" * len(title), "", operation.get("summary", ""), ""]
            if operation.get("description"):
                text += [operation["description"], ""]
            answers = [(code, answer.get("description", "")) for code, answer in operation.get("responses", {}).items()]
            if answers:
                text += [_table(("status", "meaning"), answers), ""]
    text += ["The full schema", "---------------", "", ".. code-block:: json", ""]
    text += ["   " + line for line in json.dumps(schema, indent=2).splitlines()]
    _write("server.rst", "\n".join(text) + "\n")


def examples_page():
    folder = os.path.join(ROOT, "examples")
    text = ["Examples gallery", "================", "",
            "Every application the source documents walk through, as a script in ``examples/`` "
            "(``python -m examples.NAME`` in a checkout, ``python examples/NAME.py`` in the sdist; ``--fast`` "
            "gives a seconds-long run).", ""]  # fmt: skip
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".py") or name.startswith("_"):
            continue
        source = open(os.path.join(folder, name), encoding="utf-8").read()
        doc = ast.get_docstring(ast.parse(source)) or ""
        title = name[:-3]
        text += [title, "-" * len(title), "", doc, "", f".. literalinclude:: ../../examples/{name}",
                 "   :language: python", "   :lines: 1-", ""]  # fmt: skip
    _write("examples.rst", "\n".join(text) + "\n")


def tutorials():
    """The notebooks, copied where Sphinx reads them (myst-nb renders them without running them)."""
    import shutil

    target = os.path.join(GENERATED, "tutorials")
    os.makedirs(target, exist_ok=True)
    for name in sorted(os.listdir(os.path.join(ROOT, "notebooks"))):
        if name.endswith(".ipynb"):
            source, copy = os.path.join(ROOT, "notebooks", name), os.path.join(target, name)
            if not os.path.exists(copy) or open(source, "rb").read() != open(copy, "rb").read():
                shutil.copyfile(source, copy)


def generate(app):
    tutorials()
    config_schema_page()
    server_api_page()
    examples_page()


def setup(app):
    app.connect("builder-inited", generate)
    app.connect("autodoc-process-docstring", escape_plain_text, priority=600)  # after napoleon (500)
    app.connect("autodoc-skip-member", skip_member)
    return {"parallel_read_safe": True}


# ----- plain-text formulas in docstrings, read as reStructuredText -------------------------------------
# shendu's docstrings are written to be read in a terminal (``help()``): formulas such as |x|, a * b,
# max(0, x)² and names such as model_ are plain text there. reStructuredText would read |x| as a
# substitution, a lone * as emphasis and model_ as a link; this hook escapes them outside literals,
# literal blocks and doctests, leaving ``literals``, roles and balanced *emphasis* alone.
_SPAN = re.compile(r"(``.+?``|:[\w:+-]+:`[^`]*`|`[^`]*`_{0,2}|(?<![\w*\\])\*\*?\w(?:[^*]*?\w)?\*\*?(?![\w*]))")
_LITERAL_DIRECTIVES = (".. code-block::", ".. code::", ".. math::", ".. doctest::", ".. testcode::")


def _escape_plain(text):
    parts = _SPAN.split(text)
    for i in range(0, len(parts), 2):  # the even parts are outside literals, roles and emphasis
        part = re.sub(r"(?<!\\)([|*])", r"\\\1", parts[i])
        parts[i] = re.sub(r"(?<=\w)_(?=[^\w]|$)", r"\\_", part)
    return "".join(parts)


def escape_plain_text(app, what, name, obj, options, lines):
    _separate_lists(lines)
    literal_indent = None
    for index, line in enumerate(lines):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if literal_indent is not None:
            if not stripped or indent > literal_indent:
                continue
            literal_indent = None
        if stripped.startswith((">>>", "... ", ".. ")) or stripped.startswith("|") and stripped.endswith("|"):
            if stripped.startswith(_LITERAL_DIRECTIVES):
                literal_indent = indent
            continue
        if stripped.startswith(":") and ":" in stripped[1:]:  # a field list (napoleon's :param x:): escape its text
            head, _, rest = stripped[1:].partition(":")
            lines[index] = " " * indent + ":" + head + ":" + _escape_plain(rest)
        else:
            lines[index] = " " * indent + _escape_plain(stripped)
        if stripped.endswith("::"):
            literal_indent = indent


def _separate_lists(lines):
    """A blank line before a list that follows its paragraph directly ("Args:\n- a" reads as one paragraph)."""
    index = 1
    while index < len(lines):
        line, previous = lines[index].lstrip(), lines[index - 1]
        indent, previous_indent = len(lines[index]) - len(line), len(previous) - len(previous.lstrip())
        if line.startswith("- ") and previous.strip() and not previous.lstrip().startswith("- ") \
                and previous_indent == indent and not previous.rstrip().endswith("::"):
            lines.insert(index, "")
            index += 1
        index += 1


def skip_member(app, what, name, obj, skip, options):
    """scikit-learn's generated metadata-routing methods (``set_fit_request``, ...) are scikit-learn's to document."""
    if re.fullmatch(r"set_\w+_request", name):
        return True
    return None
