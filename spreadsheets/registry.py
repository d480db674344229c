"""The importers each app registers in its `AppConfig.ready()`, and the scope rules the engine is given.

The engine knows no app: `agreements` registers its importer and the functions that decide what a user may
see; `projects` registers its own importers. Sheets are validated and written in the order of `order`.
"""

_IMPORTERS = []
_ACCESS = {}


def register(importer, *, order):
    """Add an importer class; `order` places its sheet among the others (dependencies first)."""
    if importer not in [cls for _order, cls in _IMPORTERS]:
        _IMPORTERS.append((order, importer))
        _IMPORTERS.sort(key=lambda pair: pair[0])


def importer_classes():
    """Every registered importer, in dependency order."""
    return [cls for _order, cls in _IMPORTERS]


def importers_for(target):
    """The importer of a model label ("projects.project") as a list, or None (a whole workbook)."""
    for cls in importer_classes():
        if cls.label() == target:
            return [cls]
    return None


def importer_for_model(model):
    for cls in importer_classes():
        if cls.model is model:
            return cls
    raise LookupError(model)


def set_access(*, sees_everything, user_province, scope_queryset):
    """The rules of who sees what (section 3), as functions of a user; given by the app that owns them."""
    _ACCESS.update(
        sees_everything=sees_everything, user_province=user_province, scope_queryset=scope_queryset
    )


def access(name):
    return _ACCESS[name]
