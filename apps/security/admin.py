"""Admin console pages for authorizations, clients and providers.

Secrets are write-only (:class:`~apps.security.forms.SecretFieldsForm`); a
user who may only view sees "set" or "not set" in their place. Namespace
permissions decide who sees and changes what (:class:`NamespacedAdmin`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path

from apps.data.admin_mixins import NamespacedAdmin

from . import services
from .forms import SecretFieldsForm, secret_status
from .models import Authorization, AuthorizationClient, AuthorizationProvider
from .views import admin_change_url, start_authorization


def _status_display(name: str):
    def status(self, obj) -> str:
        return secret_status(getattr(obj, name))

    return admin.display(description=name.replace("_", " "))(status)


class SecretsAdmin(NamespacedAdmin, admin.ModelAdmin):
    """Namespaced admin whose form hides its ``secret_fields`` (see SecretFieldsForm)."""

    # Django 6 assumes https for scheme-less URLs; so do we, already.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # "<field>_status" shows "set"/"not set" to users who may only view.
        for name in getattr(cls.form, "secret_fields", ()):
            setattr(cls, f"{name}_status", _status_display(name))

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        secret = set(getattr(self.form, "secret_fields", ()))

        def shown(fields):
            return [f"{name}_status" if name in secret else name for name in fields]

        return [
            (title, {**options, "fields": shown(options["fields"])}) for title, options in fieldsets
        ]


@admin.register(AuthorizationProvider)
class AuthorizationProviderAdmin(SecretsAdmin):
    list_display = ["__str__", "token_url", "client_authentication", "refresh_token_strategy"]
    list_filter = ["namespace"]
    list_select_related = ["namespace"]
    search_fields = ["name", "namespace__name", "token_url"]

    def save_model(self, request, obj, form, change):
        services.authorization_provider_save(
            instance=obj, namespace=obj.namespace, name=obj.name, token_url=obj.token_url,
            actor=request.user,
        )  # fmt: skip


class AuthorizationClientForm(SecretFieldsForm):
    secret_fields = ("client_secret",)

    class Meta:
        model = AuthorizationClient
        fields = ("namespace", "name", "provider", "client_id", "client_secret")


@admin.register(AuthorizationClient)
class AuthorizationClientAdmin(SecretsAdmin):
    form = AuthorizationClientForm
    fields = AuthorizationClientForm.Meta.fields
    list_display = ["__str__", "provider", "client_id"]
    list_filter = ["namespace"]
    list_select_related = ["namespace", "provider__namespace"]
    search_fields = ["name", "namespace__name", "client_id"]

    def save_model(self, request, obj, form, change):
        services.authorization_client_save(
            instance=obj,
            namespace=obj.namespace,
            name=obj.name,
            provider=obj.provider,
            client_id=obj.client_id,
            actor=request.user,
        )


class AuthorizationForm(SecretFieldsForm):
    secret_fields = Authorization.SECRET_FIELDS

    class Meta:
        model = Authorization
        exclude = ["token_type", "expires_at", "authorized"]


@admin.register(Authorization)
class AuthorizationAdmin(SecretsAdmin):
    form = AuthorizationForm
    list_display = ["__str__", "kind", "authorized", "expires_at", "updated_at"]
    list_filter = ["kind", "namespace"]
    list_select_related = ["namespace"]
    search_fields = ["name", "namespace__name"]
    readonly_fields = ["authorized", "token_type", "expires_at"]

    class Media:
        js = ["ipaas/authorization-kind.js"]  # shows only the chosen kind's fields

    fieldsets = [
        (None, {"fields": ["namespace", "name", "kind"]}),
        ("Basic", {"fields": ["username", "password"], "classes": ["kind-basic"]}),
        ("Bearer token", {
            "fields": ["token", "header_prefix"],
            "classes": ["kind-bearer", "kind-oauth2"],
            "description": "The header prefix is also used by OAuth 2.0.",
        }),
        ("API key", {"fields": ["key_name", "key_value", "key_in"], "classes": ["kind-api_key"]}),
        ("OAuth 1.0a", {
            "classes": ["kind-oauth1"],
            "fields": ["consumer_key", "consumer_secret", "oauth_token", "oauth_token_secret",
                       "signature_method"],
        }),
        ("OAuth 2.0", {
            "classes": ["kind-oauth2"],
            "fields": ["client", "grant_type", "scopes", "authorized", "token_type", "expires_at",
                       "access_token", "refresh_token"],
            "description": "Save, then press 'Authorize' to obtain tokens from the provider.",
        }),
    ]  # fmt: skip

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        authorization = self.get_object(request, unquote(object_id))
        client = getattr(authorization, "client", None)
        if client is not None and client.provider.authorize_url:
            # The Authorize button's form is answered with a redirect to the provider,
            # which the Content-Security-Policy's form-action must name.
            parts = urlsplit(client.provider.authorize_url)
            response._csp_update = {"form-action": [f"{parts.scheme}://{parts.netloc}"]}
        return response

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "<path:object_id>/authorize/",
                self.admin_site.admin_view(self.authorize_view),
                name=f"{opts.app_label}_{opts.model_name}_authorize",
            ),
            *super().get_urls(),
        ]

    def authorize_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The Authorize button: the code grant goes to the provider, others fetch now."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        authorization = self.get_object(request, unquote(object_id))
        if authorization is None:
            raise Http404
        if not self.has_change_permission(request, authorization):
            raise PermissionDenied
        if authorization.kind != Authorization.Kind.OAUTH2 or authorization.client is None:
            messages.error(request, "Only OAuth 2.0 authorizations with a client can authorize.")
        elif authorization.grant_type == Authorization.GrantType.AUTHORIZATION_CODE:
            return start_authorization(request, authorization)
        else:
            try:
                obtained = services.authorization_refresh(authorization)
            except services.AuthorizationError as error:
                messages.error(request, str(error))
            else:
                if obtained:
                    messages.success(request, f"Obtained new tokens for {authorization}.")
                else:
                    messages.warning(request, f"{authorization} cannot obtain tokens by itself.")
        return redirect(admin_change_url(authorization))

    def save_model(self, request, obj, form, change):
        services.authorization_save(
            instance=obj, namespace=obj.namespace, name=obj.name, kind=obj.kind, actor=request.user
        )
