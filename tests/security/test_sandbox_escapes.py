"""The language sandbox alone (the first layer, all the fallback isolation has) against the
escapes the corpus found in it. No runner here: the sandbox is plain Python.

* ``functools.update_wrapper(f, uuid.uuid4, updated=("__globals__",))`` merged uuid's
  module globals — ``os`` among them — into the algorithm's (the review's payload);
* ``functools.singledispatch``'s ``register`` evaluated a string annotation with
  ``eval``, outside the policy: ``().__class__.__base__.__subclasses__()`` ran.
"""

from __future__ import annotations

import textwrap

import pytest

from coderunner.sandbox import SandboxError, compile_algorithm


def run(source: str):
    compiled = compile_algorithm(textwrap.dedent(source), name="t", parameters=[])
    return compiled.run(arguments={}, time_limit=5)


def failure(source: str) -> SandboxError:
    with pytest.raises(SandboxError) as caught:
        run(source)
    return caught.value


@pytest.mark.parametrize(
    "call",
    [
        'functools.update_wrapper(f, uuid.uuid4, assigned=(), updated=("__globals__",))',
        'functools.wraps(uuid.uuid4, assigned=(), updated=("__globals__",))(f)',
        'functools.wraps(uuid.uuid4)(f, updated=("__globals__",))',
        'functools.update_wrapper(f, uuid.uuid4, assigned=("__code__",), updated=())',
        "functools.update_wrapper(f, uuid.uuid4, assigned=iter(['__module__', '__globals__']))",
    ],
)
def test_update_wrapper_copies_no_other_attribute(call):
    error = failure(
        f"""
        import functools, uuid
        def f():
            pass
        {call}
        return os.popen("id").read()
        """
    )
    assert error.code == "forbidden" and error.line == 5
    assert "copy only the default attributes" in error.message


def test_update_wrapper_changes_only_the_algorithms_own_objects():
    error = failure("import functools, json\nfunctools.update_wrapper(json.dumps, lambda: 0)")
    assert "change only the algorithm's own functions and objects" in error.message


def test_wraps_still_makes_decorators():
    assert run(
        """
        import functools
        def logged(function):
            @functools.wraps(function)
            def wrapper(*args):
                return ["called", function(*args)]
            return wrapper
        @logged
        def double(x: int) -> int:
            "Twice x."
            return 2 * x
        class Box:
            pass
        functools.update_wrapper(Box(), double)
        return [double(4), str(double).split()[1]]
        """
    ) == [["called", 8], "_algorithm_.<locals>.double"]


@pytest.mark.parametrize(
    "annotation",
    [
        '"().__class__.__base__.__subclasses__()"',
        "hint",
        'list["().__class__.__base__.__subclasses__()"]',
    ],
)
def test_annotations_are_never_evaluated(annotation):
    error = failure(
        f"""
        import functools
        hint = "().__class__.__base__.__subclasses__()"
        @functools.singledispatch
        def f(x):
            return "object"
        def g(x: {annotation}) -> "().__class__":
            return "int"
        f.register(g)
        """
    )
    assert "Invalid first argument to `register()`" in error.message
    assert "subclasses" not in error.message and "<class" not in error.message


def test_singledispatch_still_dispatches_on_a_named_class():
    assert run(
        """
        import functools
        @functools.singledispatch
        def kind(x):
            return "object"
        @kind.register(int)
        def for_int(x: int) -> str:
            return "int"
        return [kind(1), kind("a")]
        """
    ) == ["int", "object"]
