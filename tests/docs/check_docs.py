#!/usr/bin/env python3
# Checks that every repository path and every file or function named in README.md and docs/*.md
# exists in the source tree, so the map of the code cannot go stale silently.
"""Usage: check_docs.py SOURCE_DIR            check README.md and docs/*.md
          check_docs.py SOURCE_DIR --self-check  prove that stale names are caught

What is checked, in inline code spans (`...`) and link targets ([text](target)):
- a path (it holds a '/' and starts with a top-level entry of the tree, or is a link target):
  it must exist; '*' and '{a,b}' are expanded; a trailing '/' names a directory;
- a file name such as `engine.cpp` or `src/node.hpp`: some file in the tree must end with it;
- a header written as an include, `<tapegrad/nn/module.hpp>`: some file must end with it;
- a function written with parentheses, `reachable_records()` or `tg::grad(...)`: its last
  identifier must appear as a word in the sources (C++, CMake, Python and shell files).
Names outside the project (C and C++ library headers, PyTorch, MPI, programs' command lines)
are recognised by their form and skipped; EXTERNAL lists the few that are not.
"""
import fnmatch
import os
import re
import sys
import tempfile

# Identifiers the docs name that belong to other projects, not to this tree.
EXTERNAL_FUNCTIONS = {
    "openblas_get_parallel",  # OpenBLAS's C API
    "mkdtemp",
}
SOURCE_SUFFIXES = (".cpp", ".hpp", ".h", ".py", ".cmake", ".txt", ".in", ".sh", ".supp")
FILE_SUFFIXES = (".cpp", ".hpp", ".h", ".md", ".py", ".cmake", ".csv", ".sh", ".svg", ".png",
                 ".txt", ".in", ".supp", ".json")
SKIP_DIRS = {".git", "__pycache__"}

CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
LINK = re.compile(r"\]\(([^)\s]+)\)")
FUNCTION = re.compile(r"((?:[A-Za-z_]\w*(?:::|\.|->))*)([A-Za-z_]\w*)(?:<[^<>()]*>)?\(")
PATH_TOKEN = re.compile(r"[A-Za-z0-9_.*{},/+-]+")


def tree_files(root):
    """Every file below root (relative, '/'-separated), build directories left out."""
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = [
            d for d in dirnames
            if d not in SKIP_DIRS and not (rel_dir == "." and d.startswith("build"))
        ]
        for name in filenames:
            files.append(os.path.normpath(os.path.join(rel_dir, name)).replace(os.sep, "/"))
    return files


def expand_braces(text):
    match = re.search(r"\{([^{}]*)\}", text)
    if not match:
        return [text]
    out = []
    for choice in match.group(1).split(","):
        out.extend(expand_braces(text[: match.start()] + choice + text[match.end():]))
    return out


class Tree:
    def __init__(self, root):
        self.root = root
        self.files = tree_files(root)
        self.dirs = set()
        for f in self.files:
            parts = f.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                self.dirs.add("/".join(parts[:i]))
        self.top = {f.split("/")[0] for f in self.files}
        words = set()
        for f in self.files:
            if f.startswith("tests/docs/"):  # this checker names stale names on purpose
                continue
            if f.endswith(SOURCE_SUFFIXES) or os.path.basename(f) in ("CMakeLists.txt",) or \
                    "/" in f and f.split("/")[0] in ("scripts", "bench", ".ci"):
                try:
                    with open(os.path.join(root, f), encoding="utf-8", errors="replace") as fh:
                        words.update(re.findall(r"[A-Za-z_]\w*", fh.read()))
                except OSError:
                    pass
        self.words = words

    def path_exists(self, path):
        """True when the tree holds this path (file or directory), patterns expanded."""
        for candidate in expand_braces(path.rstrip("/")):
            candidate = os.path.normpath(candidate).replace(os.sep, "/")
            if "*" in candidate:
                if any(fnmatch.fnmatch(f, candidate) for f in self.files):
                    return True
            elif candidate in self.dirs or (candidate in self.files and not path.endswith("/")):
                return True
            else:
                return False
        return False

    def suffix_exists(self, name):
        """True when some file ends with this name ('*' and braces expanded), as a whole part."""
        for candidate in expand_braces(name):
            pattern = candidate if "*" in candidate else None
            found = False
            for f in self.files:
                if pattern:
                    if fnmatch.fnmatch(f, "*/" + pattern) or fnmatch.fnmatch(f, pattern):
                        found = True
                        break
                elif f == candidate or f.endswith("/" + candidate):
                    found = True
                    break
            if not found:
                return False
        return True


def doc_spans(text):
    """The inline code spans of a markdown text (fenced blocks are code, not names)."""
    text = FENCE.sub("", text)
    return [m.group(2).strip() for m in CODE_SPAN.finditer(text)]


def check_span(tree, doc, span, problems):
    # A shell command or a command line names programs and their flags, not files here.
    if span.startswith(("-", "$", "cmake ", "ctest ", "cpack ", "dpkg ", "apt", "mpirun ",
                        "sudo ", "git ")):
        return
    include = re.fullmatch(r"<([\w./]+)>", span)
    if include:
        header = include.group(1)
        if header.startswith("tapegrad") and not "..." in header:
            if not tree.suffix_exists(header):
                problems.append(f"header <{header}> is not in the tree")
        return
    for token in PATH_TOKEN.findall(span):
        token = token.rstrip(".,")
        if token.startswith("../"):  # relative to the document, as a link is
            resolved = os.path.normpath(os.path.join(os.path.dirname(doc), token))
            if resolved.startswith("..") or not tree.path_exists(resolved.replace(os.sep, "/")):
                problems.append(f"path {token} is not in the repository")
            continue
        if not token or "..." in token or token.startswith(("http", "build", "/", ".")):
            continue
        first = token.split("/")[0]
        if "/" in token and first in tree.top:
            if not tree.path_exists(token):
                problems.append(f"path {token} does not exist")
        elif re.fullmatch(r"[\w*{},/.+-]+", token) and token.endswith(FILE_SUFFIXES) and \
                "/" not in token or ("/" in token and token.endswith(FILE_SUFFIXES) and
                                      first not in tree.top and first not in ("tapegrad",)):
            if not tree.suffix_exists(token):
                problems.append(f"file {token} is not in the tree")
        elif "/" in token and first == "tapegrad" and token.endswith(".hpp"):
            if not tree.suffix_exists(token):
                problems.append(f"header {token} is not in the tree")
    for m in FUNCTION.finditer(span):
        qualifier, name = m.group(1), m.group(2)
        if qualifier.startswith(("torch", "np.", "std::", "F.", "nn.")) or name in EXTERNAL_FUNCTIONS:
            continue
        if name not in tree.words:
            problems.append(f"function {qualifier}{name}() is not in the sources")


def check_text(tree, doc, text):
    problems = []
    for span in doc_spans(text):
        check_span(tree, doc, span, problems)
    for target in LINK.findall(FENCE.sub("", text)):
        if target.startswith(("http:", "https:", "mailto:", "#")):
            continue
        path = target.split("#")[0]
        resolved = os.path.normpath(os.path.join(os.path.dirname(doc), path)).replace(os.sep, "/")
        if resolved.startswith(".."):
            problems.append(f"link {target} points outside the repository")
        elif not tree.path_exists(resolved):
            problems.append(f"link {target} does not exist")
    return problems


def docs_of(root):
    docs = ["README.md"]
    docs += sorted("docs/" + f for f in os.listdir(os.path.join(root, "docs")) if f.endswith(".md"))
    return docs


def check_tree(tree, docs):
    failures = 0
    for doc in docs:
        with open(os.path.join(tree.root, doc), encoding="utf-8") as fh:
            text = fh.read()
        for problem in sorted(set(check_text(tree, doc, text))):
            print(f"{doc}: {problem}")
            failures += 1
    return failures


def self_check(tree):
    """A doc naming a missing file, path, header, function and link must fail, each named."""
    stale = ("See `autograd/src/no_such_file.cpp`, `no_such_helper.hpp`, "
             "`<tapegrad/autograd/no_such_header.hpp>`, `tg::no_such_function_xyz()` "
             "and [the rules](../../outside/DESIGN.md); `engine.cpp` and `reachable_records()` exist.")
    problems = check_text(tree, "docs/STALE.md", stale)
    expected = ["autograd/src/no_such_file.cpp", "no_such_helper.hpp", "no_such_header.hpp",
                "no_such_function_xyz", "../../outside/DESIGN.md"]
    ok = True
    for name in expected:
        if not any(name in p for p in problems):
            print(f"self-check: the stale name {name} was not reported")
            ok = False
    if len(problems) != len(expected):
        print(f"self-check: expected {len(expected)} problems, got {problems}")
        ok = False
    if ok:
        print(f"self-check: all {len(expected)} stale names reported")
    return ok


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    tree = Tree(argv[1])
    if "--self-check" in argv[2:]:
        return 0 if self_check(tree) else 1
    docs = docs_of(argv[1])
    failures = check_tree(tree, docs)
    print(f"{len(docs)} documents checked, {failures} stale names")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
