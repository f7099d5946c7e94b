"""Setup endpoints of the workflows app, tasks, notifications and the run actions."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.data import permissions
from apps.data.api.setup import ListFilters, NamespacedViewSet, as_drf_error, narrowed

from .. import services
from ..models import Algorithm, Execution, Flow, Notification, Observer, Scheduler, Task, Translator
from . import serializers as s

RELATED = ["namespace"]


class AlgorithmViewSet(NamespacedViewSet):
    serializer_class = s.AlgorithmSerializer
    queryset = Algorithm.objects.select_related(*RELATED)

    @extend_schema(request=s.RunInputSerializer, responses=s.TaskSerializer)
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        """Run the algorithm with ``input`` as its arguments (``sync`` to wait for it)."""
        algorithm = self.get_object()
        self.require_change(algorithm.namespace)
        body = s.RunInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            task = services.algorithm_run(
                algorithm=algorithm, arguments=body.validated_data["input"], actor=request.user
            )
        except DjangoValidationError as error:
            raise as_drf_error(error) from None
        return _task_response(task, sync=body.validated_data["sync"])


def _task_response(task: Task, *, sync: bool) -> Response:
    """200 with the finished task when ``sync`` and it finished within SYNC_WAIT_SECONDS;
    else 202 with the task to follow (``GET /api/v2/setup/task/<id>/``). The task runs in
    a worker either way: a web worker is never held longer than that wait."""
    if sync:
        task = services.task_wait(task=task)
    finished = task.status not in Task.UNFINISHED
    code = status.HTTP_200_OK if sync and finished else status.HTTP_202_ACCEPTED
    return Response(s.TaskSerializer(task).data, status=code)


class TranslatorViewSet(NamespacedViewSet):
    serializer_class = s.TranslatorSerializer
    queryset = Translator.objects.select_related(*RELATED)


class ObserverViewSet(NamespacedViewSet):
    serializer_class = s.ObserverSerializer
    queryset = Observer.objects.select_related(*RELATED, "data_type__namespace")


class SchedulerViewSet(NamespacedViewSet):
    serializer_class = s.SchedulerSerializer
    queryset = Scheduler.objects.select_related(*RELATED)


class FlowViewSet(NamespacedViewSet):
    serializer_class = s.FlowSerializer
    queryset = Flow.objects.select_related(*RELATED, "translator__namespace")

    @extend_schema(request=s.RunInputSerializer, responses=s.TaskSerializer)
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        """Run the flow now (``{"sync": true}`` to wait for it)."""
        flow = self.get_object()
        self.require_change(flow.namespace)
        sync = bool(request.data.get("sync")) if isinstance(request.data, dict) else False
        try:
            task = services.flow_run(flow=flow, actor=request.user)
        except DjangoValidationError as error:
            raise as_drf_error(error) from None
        return _task_response(task, sync=sync)


class TaskViewSet(
    ListFilters, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Tasks of the namespaces you can see; ``?status=failed``, ``?flow=<id or ns.name>``."""

    list_filters = {
        "status": f"one of {', '.join(Task.Status.values)}",
        "kind": f"one of {', '.join(Task.Kind.values)}",
        "flow": "the flow's id or namespace.name",
    }

    serializer_class = s.TaskSerializer
    queryset = Task.objects.select_related(
        "namespace", "flow__namespace", "algorithm__namespace"
    ).prefetch_related(Prefetch("executions", queryset=Execution.objects.order_by("attempt")))

    def get_queryset(self):
        visible = permissions.namespaces_for(self.request.user, permissions.VIEW)
        queryset = super().get_queryset().filter(namespace__in=visible)
        allowed = {"status": Task.Status.values, "kind": Task.Kind.values, "flow": "element"}
        return narrowed(queryset, self.request.query_params, allowed)

    def _change(self, task):
        if not permissions.can_change(self.request.user, task.namespace):
            from rest_framework.exceptions import PermissionDenied

            raise PermissionDenied(f"You may not run tasks of namespace '{task.namespace.name}'.")

    @extend_schema(request=None, responses=s.TaskSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        task = self.get_object()
        self._change(task)
        try:
            task = services.task_retry(task=task)
        except DjangoValidationError as error:
            if error.code == "not_retryable":
                return Response({"detail": error.messages[0]}, status=status.HTTP_409_CONFLICT)
            raise as_drf_error(error) from None
        return Response(s.TaskSerializer(task).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=s.TaskSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        task = self.get_object()
        self._change(task)
        if task.status not in Task.UNFINISHED:
            return Response(
                {"detail": f"Task #{task.pk} is {task.status}: only pending, running, "
                 "retrying or paused tasks can be cancelled."},
                status=status.HTTP_409_CONFLICT,
            )  # fmt: skip
        return Response(s.TaskSerializer(services.task_cancel(task=task)).data)


class NotificationViewSet(
    ListFilters, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Notifications of the namespaces you can see; ``?level=error``, ``?task=<id>``."""

    list_filters = {
        "level": f"one of {', '.join(Notification.Level.values)}",
        "task": "the task's id",
    }

    serializer_class = s.NotificationSerializer
    queryset = Notification.objects.select_related("namespace")

    def get_queryset(self):
        visible = permissions.namespaces_for(self.request.user, permissions.VIEW)
        queryset = super().get_queryset().filter(namespace__in=visible)
        allowed = {"level": Notification.Level.values, "task": "id"}
        return narrowed(queryset, self.request.query_params, allowed)
