"""TeX in titles and abstracts, rendered on the server: math as MathML, everything else escaped.

``$...$`` and ``$$...$$`` (also ``\\(...\\)`` and ``\\[...\\]``) become MathML
with latex2mathml; the text around them is HTML-escaped, with a few text
macros (``\\emph``, ``\\textbf``, ``\\%``, ...) turned into their meaning. A
dollar sign opens math only when a non-space follows it, and closes it only
after a non-space and before no digit (pandoc's rule), so "$5 and $10" stays
text.

latex2mathml does not escape what it copies into ``<mtext>`` or ``href``,
so its output is never trusted: it is parsed as XML and rebuilt from a list
of MathML elements and attributes, with every text escaped again. Math that
fails to convert or to parse is shown as the escaped TeX it was: no input
can produce an error or markup of its own.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from latex2mathml.converter import convert
from lxml import etree
from markupsafe import Markup

MAX_MATH_CHARS = 1000  # longer "math" is more likely a stray dollar sign than a formula

_MATH = re.compile(
    r"\$\$(?P<display>[^$]+?)\$\$"
    r"|(?<![\\$])\$(?![\d.,]*\d(?:\s+[A-Za-z]|\)|[,;]\s))(?P<inline>[^\s$](?:[^$]*?[^\s$\\])?)\$"
    r"|\\\((?P<paren>.+?)\\\)"
    r"|\\\[(?P<bracket>.+?)\\\]",
    re.DOTALL,
)
_MATHML_NS = "http://www.w3.org/1998/Math/MathML"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_ELEMENTS = _words(
    "math mrow mi mn mo ms mtext mspace msub msup msubsup munder mover munderover mfrac msqrt mroot "
    "mstyle merror mpadded mphantom mfenced menclose mtable mtr mtd mlabeledtr maligngroup malignmark "
    "semantics annotation mmultiscripts mprescripts none"
)
_ATTRIBUTES = _words(
    "display mathvariant displaystyle scriptlevel stretchy fence separator separators lspace rspace form "
    "accent accentunder movablelimits largeop symmetric minsize maxsize linethickness width height depth "
    "voffset columnalign rowalign columnspacing rowspacing columnlines rowlines frame framespacing "
    "equalrows equalcolumns notation open close align mathsize numalign denomalign bevelled"
)
_TEXT_MACROS = re.compile(r"\\(emph|textit|textbf|texttt|textsc|textrm|textsf|underline|url)\{([^{}\\]*)\}")
_MACRO_TAGS = {"emph": "em", "textit": "em", "textbf": "strong", "texttt": "code", "underline": "u"}
_ESCAPED_CHARS = re.compile(r"\\([%&#_$])")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n|\n[ \t]{2,}(?=\S)")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=8192)
def tex_html(text: str) -> Markup:
    """One line of text (a title, an excerpt) with its math rendered and the rest escaped."""
    out: list[str] = []
    pos = 0
    for m in _MATH.finditer(text):
        out.append(_text_html(text[pos : m.start()]))
        display = m.group("display") is not None or m.group("bracket") is not None
        latex = next(g for g in m.group("display", "inline", "paren", "bracket") if g is not None)
        out.append(math_html(latex, display) or html.escape(m.group(0), quote=False))
        pos = m.end()
    out.append(_text_html(text[pos:]))
    return Markup("".join(out))


@lru_cache(maxsize=2048)
def abstract_html(text: str) -> Markup:
    """An abstract as HTML paragraphs: hard line breaks joined, blank or indented lines start a paragraph."""
    paragraphs = [_SPACES.sub(" ", p).strip() for p in _PARAGRAPH_BREAK.split(text or "")]
    return Markup("".join(f"<p>{tex_html(p)}</p>" for p in paragraphs if p))


def excerpt(text: str, chars: int = 300) -> str:
    """The start of ``text`` (whitespace collapsed), cut at a word boundary outside math, with "…"."""
    flat = _SPACES.sub(" ", text or "").strip()
    if len(flat) <= chars:
        return flat
    cut = flat.rfind(" ", 0, chars)
    cut = cut if cut > chars // 2 else chars
    for m in _MATH.finditer(flat):  # never end inside a formula: end before it, or after it if short
        if m.start() < cut < m.end():
            cut = m.end() if m.end() - chars < 80 else m.start()
            break
    return flat[:cut].rstrip() + " …"


def math_html(latex: str, display: bool = False) -> str | None:
    """MathML for one formula, rebuilt from allowed elements and attributes; None if it cannot be."""
    if len(latex) > MAX_MATH_CHARS or not latex.strip():
        return None
    try:
        raw = convert(latex, display="block" if display else "inline")
        root = etree.fromstring(raw.encode("utf-8"), parser=_PARSER)
    except Exception:  # noqa: BLE001 -- latex2mathml raises many kinds of errors on bad TeX; lxml on bad output
        return None
    out: list[str] = []
    if not _rebuild(root, out):
        return None
    return "".join(out)


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _rebuild(node: etree._Element, out: list[str]) -> bool:
    if not isinstance(node.tag, str):  # a comment or processing instruction: drop it
        if node.tail:
            out.append(html.escape(node.tail, quote=False))
        return True
    name = etree.QName(node).localname
    if etree.QName(node).namespace not in (None, _MATHML_NS) or name not in _ELEMENTS:
        return False
    attrs = "".join(
        f' {k}="{html.escape(v, quote=True)}"' for k, v in node.attrib.items() if k in _ATTRIBUTES
    )
    if name == "math":
        attrs = f' xmlns="{_MATHML_NS}"' + attrs
    out.append(f"<{name}{attrs}>")
    if node.text:
        out.append(html.escape(node.text, quote=False))
    for child in node:
        if not _rebuild(child, out):
            return False
    out.append(f"</{name}>")
    if node.tail:
        out.append(html.escape(node.tail, quote=False))
    return True


def _text_html(text: str) -> str:
    """Escape plain text, then give a few common TeX text macros their meaning."""
    if not text:
        return ""
    escaped = html.escape(_ESCAPED_CHARS.sub(r"\1", text), quote=False)
    if "\\" not in escaped:
        return escaped
    return _TEXT_MACROS.sub(_macro, escaped)


def _macro(m: re.Match[str]) -> str:
    tag = _MACRO_TAGS.get(m.group(1))
    return f"<{tag}>{m.group(2)}</{tag}>" if tag else m.group(2)
