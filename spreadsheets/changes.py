"""What an import changes: per updated row, each changed field old → new as the sheet shows it, and per column
how many rows change it (a mixin of SheetImporter)."""

from spreadsheets.cells import Pending, chunked, display, excerpt, yuan_to_wan


class ChangeDescription:
    """Reads `model`, `columns`, `choices`, `changes` ({row: {attname: (old, new)}}) and `column_changes`
    ({attname: rows}) of the importer it is mixed into."""

    def column_of_attname(self):
        """{model attname: column} for the columns that fill a model field."""
        names = {f.attname for f in self.model._meta.concrete_fields}
        out = {}
        for column in self.columns:
            for attname in column.attnames():
                if attname in names:
                    out[attname] = column
                    break
        return out

    def changed_column_counts(self):
        """{column header: how many rows change it} over every updated row of the sheet."""
        counts = {}
        for attname, column in self.column_of_attname().items():
            if attname in self.column_changes:
                counts[column.header] = counts.get(column.header, 0) + self.column_changes[attname]
        return {column.header: counts[column.header] for column in self.columns if column.header in counts}

    def describe_changes(self, numbers):
        """{row number: [{"column", "old", "new"}]} of the given updated rows, values as a sheet shows them
        (codes for references, one query per referenced model, Chinese labels, amounts in 万元)."""
        columns = self.column_of_attname()
        references = {}
        for number in numbers:
            for attname, pair in self.changes.get(number, {}).items():
                related = getattr(
                    self.model._meta.get_field(attname.removesuffix("_id")), "related_model", None
                )
                if related is not None:
                    references.setdefault(related, set()).update(v for v in pair if isinstance(v, int))
        codes = {}
        for related, ids in references.items():
            code = "code" if any(f.name == "code" for f in related._meta.fields) else "pk"
            for chunk in chunked(ids):
                codes.update(
                    {
                        (related, pk): c
                        for pk, c in related._default_manager.filter(pk__in=chunk).values_list("pk", code)
                    }
                )
        out = {}
        for number in numbers:
            lines = []
            for attname, (old, new) in self.changes.get(number, {}).items():
                column = columns.get(attname)
                if column is None:
                    continue
                related = getattr(
                    self.model._meta.get_field(attname.removesuffix("_id")), "related_model", None
                )
                lines.append(
                    {
                        "column": column.header,
                        "old": self.show(column, old, related, codes),
                        "new": self.show(column, new, related, codes),
                    }
                )
            out[number] = lines
        return out

    def show(self, column, value, related=None, codes=None):
        """A stored value as the sheet writes it."""
        if value is None or value == "":
            return ""
        if isinstance(value, Pending):
            return excerpt(value.code)
        if related is not None:
            return excerpt(codes.get((related, value), value))
        if column.kind == "amount":
            return str(yuan_to_wan(value))
        if column.kind == "status":
            return self.choices.get(value, (value,))[0]
        return display(value)
