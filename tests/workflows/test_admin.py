"""The workflows admin through the test client: validation errors are form errors."""

import pytest
from django_celery_beat.models import PeriodicTask

from apps.workflows.models import Event, Scheduler


@pytest.fixture
def signed_in(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("expression", ["every banana", "cron 61 * * * *", "cron * *", "every 0s"])
def test_bad_scheduler_expressions_are_form_errors(signed_in, namespace, expression):
    response = signed_in.post(
        "/admin/workflows/scheduler/add/",
        {"namespace": namespace.pk, "name": "s", "active": "on", "expression": expression},
    )
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert (
        not Event.objects.exists()
        and not PeriodicTask.objects.filter(name__startswith="scheduler").exists()
    )


def test_observer_needs_a_data_type_and_valid_conditions(signed_in, namespace, contact):
    page = signed_in.post(
        "/admin/workflows/observer/add/",
        {"namespace": namespace.pk, "name": "o", "active": "on", "on_created": "on",
         "conditions": "[]"},
    )  # fmt: skip
    assert page.status_code == 200 and "An observer watches a data type." in page.content.decode()
    page = signed_in.post(
        "/admin/workflows/observer/add/",
        {"namespace": namespace.pk, "name": "o", "active": "on", "data_type": contact.pk,
         "conditions": '[{"field": "status", "op": "banana"}]'},
    )  # fmt: skip
    assert "unknown operator" in page.content.decode()
    assert not Event.objects.exists()


def test_scheduler_saved_in_the_admin_is_a_named_periodic_task(signed_in, namespace):
    response = signed_in.post(
        "/admin/workflows/scheduler/add/",
        {"namespace": namespace.pk, "name": "nightly", "active": "on",
         "expression": "cron 0 3 * * *"},
    )  # fmt: skip
    assert response.status_code == 302
    scheduler = Scheduler.objects.get()
    assert scheduler.kind == "scheduler"
    assert PeriodicTask.objects.get(pk=scheduler.periodic_task_id).name == "scheduler crm.nightly"


def test_run_now_of_an_algorithm_that_needs_arguments_says_so(signed_in, algorithm):
    from apps.workflows.models import Algorithm, Task

    add = algorithm("add", "return a + b", parameters=["a", "b"])
    free = algorithm("hello", "return 'hello'")
    page = signed_in.post(
        "/admin/workflows/algorithm/",
        {"action": "run_now", "_selected_action": [add.pk, free.pk]},
        follow=True,
    )
    text = page.content.decode()
    assert "the parameter &#x27;a&#x27; is missing" in text and "Run with input" in text
    assert "Algorithm crm.hello: task #" in text
    assert list(Task.objects.values_list("algorithm__name", flat=True)) == ["hello"]
    assert Algorithm.objects.count() == 2


def test_the_admin_index_lists_no_schedules_the_platform_does_not_use(signed_in):
    index = signed_in.get("/admin/").content.decode()
    assert "Schedulers" in index and "Periodic tasks" in index
    assert "Clocked" not in index and "Solar" not in index
