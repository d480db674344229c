"""`{% fixed %}…{% endfixed %}`: template text that depends on nothing but the language — literal text,
translated literals, reversed URLs without arguments, static files — rendered once per process for each
language (and URL prefix) instead of at every request.

A dashboard page holds some forty `translate` tags and a few `url` and `static` tags (column headers,
captions, the header's links), which together took about a millisecond of every page's rendering. What such
a block may hold is checked when the template is compiled — anything reading the context (a variable, a
tag with a variable argument, a filter) is a TemplateSyntaxError — so the text kept is the text every
request would have rendered.
"""

from django import template
from django.template.base import FilterExpression, TextNode
from django.template.defaulttags import CommentNode, LoadNode, URLNode
from django.templatetags.i18n import TranslateNode
from django.templatetags.static import StaticNode
from django.urls import get_script_prefix, get_urlconf
from django.utils.translation import get_language

register = template.Library()

LIMIT = 32  # renderings kept per block (languages × URL prefixes)


def _literal(expression) -> bool:
    """Whether a tag argument is a literal, with no filter: its value needs no context."""
    if expression is None:
        return True
    if not isinstance(expression, FilterExpression) or expression.filters:
        return False
    return not expression.is_var or expression.var.literal is not None


def _context_free(node) -> bool:
    if isinstance(node, (TextNode, CommentNode, LoadNode)):
        return True
    if isinstance(node, TranslateNode):
        return not node.asvar and _literal(node.filter_expression) and _literal(node.message_context)
    if isinstance(node, URLNode):
        return not node.asvar and not node.args and not node.kwargs and _literal(node.view_name)
    if isinstance(node, StaticNode):
        return not node.varname and _literal(node.path)
    return False


class FixedNode(template.Node):
    def __init__(self, nodelist):
        self.nodelist = nodelist
        self.rendered = {}

    def render(self, context):
        # Everything the text may depend on: the language, the URL prefix, URLconf and current application
        # (which instance a namespaced `url` resolves to), escaping.
        request = getattr(context, "request", None)
        match = getattr(request, "resolver_match", None)
        app = (getattr(request, "current_app", None), getattr(match, "namespace", None))
        key = (get_language(), get_script_prefix(), get_urlconf(), app, context.autoescape)
        text = self.rendered.get(key)
        if text is None:
            text = self.nodelist.render(context)
            if len(self.rendered) < LIMIT:
                self.rendered[key] = text
        return text


@register.tag
def fixed(parser, token):
    """{% fixed %}text, {% translate "…" %}, {% url "name" %}, {% static "path" %}{% endfixed %}"""
    nodelist = parser.parse(("endfixed",))
    parser.delete_first_token()
    for node in nodelist:
        if not _context_free(node):
            raise template.TemplateSyntaxError(
                f"{{% fixed %}} holds only literal text, translate, url and static tags with literal"
                f" arguments, not {node.token.contents if node.token else node!r}"
            )
    return FixedNode(nodelist)
