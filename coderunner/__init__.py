"""Where user code runs: isolated runner processes, and the libraries they use.

Everything a user writes that executes — algorithms, python translators,
trigger evaluators, before-submit code, Jinja2 templates and expressions —
runs in a runner process (``server.py``), never in the web, worker or beat
process (DESIGN §6). The layers, from the outside in:

1. the process (``host/isolation.py``): bubblewrap namespaces, no network, a
   read-only view of the interpreter and libraries only, an empty scratch
   directory, no environment, the user ``nobody``;
2. OS limits it puts on itself (``server.py``): memory, CPU time, no processes;
3. the platform's wall clock (``host/process.py``): a runner past its job's
   time limit is killed with its sandbox and replaced;
4. the language (``sandbox/``, RestrictedPython; ``translation/``, Jinja2's
   sandbox): the friendly first layer that names the user's line.

The platform talks to runners in JSON frames (``protocol.py``); what user
code may ask of the platform (``api.py``) crosses as messages that the
platform answers and checks. Nothing in this package imports Django or the
platform (``apps``): ``tests/runners/test_isolation.py`` checks that.
"""
