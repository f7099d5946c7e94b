"""Admin forms whose secret fields are write-only."""

from __future__ import annotations

from django import forms

KEEP_HINT = "Leave empty to keep the stored value."


def secret_status(value: str) -> str:
    return "set" if value else "not set"


class SecretFieldsForm(forms.ModelForm):
    """A ModelForm that never sends a secret to the browser.

    Each field named in ``secret_fields`` becomes an empty password input
    whose help text says whether a value is stored; submitting it empty
    keeps the stored value.
    """

    secret_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.secret_fields:
            model_field = self.fields.get(name)
            if model_field is None:
                continue
            # The plaintext must not reach the page, nor serve as "initial" for has_changed().
            self.initial.pop(name, None)
            status = secret_status(getattr(self.instance, name, ""))
            self.fields[name] = forms.CharField(
                label=model_field.label,
                required=False,
                strip=False,
                widget=forms.PasswordInput(
                    render_value=False, attrs={"autocomplete": "new-password"}
                ),
                help_text=f"{model_field.help_text} Currently {status}; stored encrypted. "
                f"{KEEP_HINT}",
            )

    def clean(self):
        cleaned = super().clean()
        for name in self.secret_fields:
            if name in self.fields and not cleaned.get(name):
                cleaned[name] = getattr(self.instance, name)
        return cleaned
