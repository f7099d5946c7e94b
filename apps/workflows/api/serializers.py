"""Serializers of the workflows app's setup elements, tasks and notifications.

Other elements are referred to as ``{"namespace": "crm", "name": "Contact"}``.
"""

from __future__ import annotations

from rest_framework import serializers

from apps.data.api.fields import ReferenceField
from apps.data.api.setup import NamespaceField, SetupSerializer, actor_of
from apps.data.models import DataType
from apps.gateway.models import ConnectionRole, Webhook
from apps.security.models import Authorization

from .. import services
from ..models import Algorithm, Event, Flow, Notification, Observer, Scheduler, Task, Translator

TIMESTAMPS = ["created_at", "updated_at"]


def ref(model, **kwargs):
    return ReferenceField(model, allow_null=True, required=False, **kwargs)


class ElementSerializer(SetupSerializer):
    """Writes through :func:`apps.workflows.services.element_save`."""

    namespace = NamespaceField()
    extra_fields: dict = {}

    def _save(self, instance, validated_data):
        data = dict(validated_data)
        namespace = data.pop("namespace", instance.namespace if instance else None)
        name = data.pop("name", instance.name if instance else "")
        return services.element_save(
            model=self.Meta.model,
            namespace=namespace,
            name=name,
            instance=instance,
            actor=actor_of(self),
            **data,
            **self.extra_fields,
        )

    def create(self, validated_data):
        return self._save(None, validated_data)

    def update(self, instance, validated_data):
        return self._save(instance, validated_data)


class AlgorithmSerializer(ElementSerializer):
    class Meta:
        model = Algorithm
        fields = [
            "id",
            "namespace",
            "name",
            "description",
            "parameters",
            "code",
            "time_limit",
            *TIMESTAMPS,
        ]
        read_only_fields = ["id", *TIMESTAMPS]


class TranslatorSerializer(ElementSerializer):
    source_data_type = ref(DataType)
    target_data_type = ref(DataType)
    algorithm = ref(Algorithm)

    class Meta:
        model = Translator
        fields = [
            "id",
            "namespace",
            "name",
            "description",
            "type",
            "style",
            "source_data_type",
            "target_data_type",
            "mapping",
            "template",
            "mime_type",
            "bulk",
            "records_path",
            "algorithm",
            *TIMESTAMPS,
        ]
        read_only_fields = ["id", *TIMESTAMPS]


class ObserverSerializer(ElementSerializer):
    data_type = ref(DataType)
    trigger_evaluator = ref(Algorithm)
    extra_fields = {"kind": Event.Kind.OBSERVER}

    class Meta:
        model = Observer
        fields = [
            "id",
            "namespace",
            "name",
            "description",
            "active",
            "data_type",
            "on_created",
            "on_updated",
            "conditions",
            "trigger_evaluator",
            *TIMESTAMPS,
        ]
        read_only_fields = ["id", *TIMESTAMPS]


class SchedulerSerializer(ElementSerializer):
    extra_fields = {"kind": Event.Kind.SCHEDULER}

    class Meta:
        model = Scheduler
        fields = ["id", "namespace", "name", "description", "active", "expression", *TIMESTAMPS]
        read_only_fields = ["id", *TIMESTAMPS]


class FlowSerializer(ElementSerializer):
    event = ref(Event, help_text='An observer or scheduler, as {"namespace": …, "name": …}.')
    translator = ref(Translator)
    algorithm = ref(Algorithm)
    data_type = ref(DataType)
    webhook = ref(Webhook)
    connection_role = ref(ConnectionRole)
    authorization = ref(Authorization)
    before_submit = ref(Algorithm)
    response_translator = ref(Translator)
    response_data_type = ref(DataType)

    class Meta:
        model = Flow
        fields = [
            "id",
            "namespace",
            "name",
            "description",
            "event",
            "translator",
            "algorithm",
            "data_type",
            "scope",
            "scope_filter",
            "lot_size",
            "webhook",
            "connection_role",
            "authorization",
            "template_values",
            "before_submit",
            "response_translator",
            "response_data_type",
            "active",
            "discard_events",
            "notify_request",
            "notify_response",
            "auto_retry",
            "max_attempts",
            *TIMESTAMPS,
        ]
        read_only_fields = ["id", *TIMESTAMPS]


class NotificationSerializer(serializers.ModelSerializer):
    namespace = serializers.CharField(source="namespace.name", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "namespace", "level", "message", "attachment", "task", "created_at"]
        read_only_fields = fields


class TaskSerializer(serializers.ModelSerializer):
    namespace = serializers.CharField(source="namespace.name", read_only=True)
    flow: serializers.StringRelatedField[Flow] = serializers.StringRelatedField()
    algorithm: serializers.StringRelatedField[Algorithm] = serializers.StringRelatedField()
    error = serializers.SerializerMethodField(help_text="Why the last attempt failed, if it did.")

    def get_error(self, obj: Task) -> str:
        executions = list(obj.executions.all())  # prefetched in lists
        return executions[-1].error if executions else ""

    class Meta:
        model = Task
        fields = [
            "id",
            "namespace",
            "kind",
            "status",
            "description",
            "flow",
            "algorithm",
            "input",
            "state",
            "result",
            "error",
            "progress",
            "attempts",
            "max_attempts",
            "created_at",
            "updated_at",
            "finished_at",
        ]
        read_only_fields = fields


class RunInputSerializer(serializers.Serializer):
    input = serializers.DictField(
        required=False, default=dict, help_text="The algorithm's arguments."
    )
    sync = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Wait for the task (at most SYNC_WAIT_SECONDS, 5 s by default): 200 with "
        "the finished task, or 202 with the task to follow when it takes longer.",
    )

    def validate(self, attrs):
        # {"a": 1} where {"input": {"a": 1}} was meant: ignored, it ran without arguments.
        unknown = [name for name in self.initial_data if name not in self.fields]
        if unknown:
            raise serializers.ValidationError(
                {
                    name: f'Unknown field: the arguments go in "input", e.g. '
                    f'{{"input": {{"{name}": …}}}}.'
                    for name in unknown
                }
            )
        return attrs
