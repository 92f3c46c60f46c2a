from __future__ import annotations

from django import forms

from .formats import PARSER_MODULES


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)]


class UploadForm(forms.Form):
    workload = forms.CharField(
        max_length=200, help_text="A name for this usage, e.g. “Claude Code, November”"
    )
    files = MultipleFileField(
        help_text="JSONL, JSON or CSV files, or .gz/.zip/.tar archives of them"
    )
    format = forms.ChoiceField(
        choices=[("", "Detect automatically"), *[(n, n.replace("_", " ")) for n in PARSER_MODULES]],
        required=False,
    )
