"""The workflows admin in a real browser: run an algorithm, see tasks, retry a failure."""

import pytest

from apps.workflows.models import Algorithm, Task
from apps.workflows.services import algorithm_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_tasks_progress_and_retry(admin_page, live_server, namespace):
    page = admin_page
    page.goto(f"{live_server.url}/admin/workflows/algorithm/add/")
    page.select_option("#id_namespace", label="crm")
    page.fill("#id_name", "halve")
    page.fill("#id_parameters", '[{"name": "n", "type": "integer"}]')
    page.fill("#id_code", "x = n\nreturn 10 / x")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    algorithm = Algorithm.objects.get(name="halve")

    page.goto(f"{live_server.url}/admin/workflows/algorithm/{algorithm.pk}/change/")
    page.fill("#id_code", "return n +")
    page.click("input[name=_save]")
    assert "line 1" in page.inner_text(".errorlist")
    assert Algorithm.objects.get(pk=algorithm.pk).code == "x = n\nreturn 10 / x"

    done = algorithm_run(algorithm=algorithm, arguments={"n": 4}, sync=True)
    failed = algorithm_run(algorithm=algorithm, arguments={"n": 0}, sync=True)
    assert (done.status, failed.status) == ("completed", "failed")

    page.goto(f"{live_server.url}/admin/workflows/task/")
    rows = page.inner_text("#result_list tbody")
    assert "completed" in rows and "failed" in rows
    bar = page.locator(f"#result_list tr:has(a:text-is('{done.pk}')) div[title='100%']")
    assert bar.count() == 1

    page.goto(f"{live_server.url}/admin/workflows/task/{failed.pk}/change/")
    body = page.inner_text("#content")
    assert "ZeroDivisionError" in body and "line 2" in body

    page.goto(f"{live_server.url}/admin/workflows/task/")
    page.check(f"input[name=_selected_action][value='{failed.pk}']")
    page.select_option("select[name=action]", "retry")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist")
    assert Task.objects.get(pk=failed.pk).status == "pending"

    page.goto(f"{live_server.url}/admin/workflows/algorithm/{algorithm.pk}/run/")
    page.fill("#id_input", '{"n": 5}')
    page.click("input[type=submit]")
    page.wait_for_selector(".messagelist .success")
    assert Task.objects.filter(algorithm=algorithm, input={"arguments": {"n": 5}}).exists()
