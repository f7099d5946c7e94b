"""The translation library: mappings, templates and body parsing (no database)."""

from __future__ import annotations

import json

import jmespath
import pytest

from coderunner.translation import (
    TranslationError,
    compile_mapping,
    compile_template,
    media_type,
    parse_body,
)
from coderunner.translation.functions import JMESPATH_OPTIONS

CONTACT = {
    "id": 7,
    "first": "Ada",
    "last": "Lovelace",
    "contact": {"email": "ada@example.com", "phones": ["+1", "+2"]},
    "items": [{"sku": "A-1", "qty": 2}, {"sku": "B-2", "qty": 1}],
    "active": True,
}


# Mappings -------------------------------------------------------------------


def test_mapping_builds_nested_targets_in_the_mappings_order():
    mapping = compile_mapping(
        {
            "id": "id",
            "customer.email": "contact.email",
            "customer.name.first": "first",
            "customer.name.last": "last",
            "source": '="CRM"',
        }
    )

    result = mapping.apply(CONTACT)

    assert result == {
        "id": 7,
        "customer": {"email": "ada@example.com", "name": {"first": "Ada", "last": "Lovelace"}},
        "source": "CRM",
    }
    assert list(result) == ["id", "customer", "source"]


def test_mapping_jmespath_functions_and_projections():
    mapping = compile_mapping(
        {
            "name": "join(' ', [first, last])",
            "skus": "items[*].sku",
            "count": "length(items)",
            "total_qty": "sum(items[*].qty)",
            "email": "upper(contact.email)",
            "login": "lower(first)",
            "domain": "split(contact.email, '@')[1]",
            "first_phone": "contact.phones[0]",
            "quoted": 'contact."email"',
        }
    )

    assert mapping.apply(CONTACT) == {
        "name": "Ada Lovelace",
        "skus": ["A-1", "B-2"],
        "count": 2,
        "total_qty": 3,
        "email": "ADA@EXAMPLE.COM",
        "login": "ada",
        "domain": "example.com",
        "first_phone": "+1",
        "quoted": "ada@example.com",
    }


def test_mapping_jinja_expressions_give_native_values():
    mapping = compile_mapping(
        {
            "display": "{{ first ~ ' ' ~ last | upper }}",
            "count": "{{ items | length }}",
            "double": "{{ id * 2 }}",
            "whole": "{{ record.contact.email }}",
            "item_list": "{{ items | map(attribute='sku') | join(',') }}",
            "greeting": "Dear {{ first }} {{ last }}",
            "missing": "{{ nope }}",
            "missing_deep": "{{ nope.deeper.still }}",
        }
    )

    assert mapping.apply(CONTACT) == {
        "display": "Ada LOVELACE",
        "count": 2,
        "double": 14,
        "whole": "ada@example.com",
        "item_list": "A-1,B-2",
        "greeting": "Dear Ada Lovelace",
        "missing": None,
        "missing_deep": None,
    }


def test_mapping_jinja_prefers_a_records_key_to_a_dict_method():
    mapping = compile_mapping({"n": "{{ order.items | length }}", "k": "{{ order.keys }}"})

    assert mapping.apply({"order": {"items": [1, 2, 3], "keys": "K"}}) == {"n": 3, "k": "K"}


def test_mapping_constants():
    mapping = compile_mapping(
        {"s": '="CRM"', "i": "=42", "f": "=1.5", "b": "=true", "n": "=null", "o": '={"a": [1]}'}
    )

    first, second = mapping.apply_many([{}, {}])

    assert first == {"s": "CRM", "i": 42, "f": 1.5, "b": True, "n": None, "o": {"a": [1]}}
    first["o"]["a"].append(2)
    assert second["o"] == {"a": [1]}  # each record has its own copy


def test_missing_values_are_none_or_omitted():
    mapping = {"a": "x.y.z", "b.c": "nope", "b.d": "first", "e.f": "missing", "g": "{{ nope }}"}

    assert compile_mapping(mapping).apply({"first": "Ada"}) == {
        "a": None,
        "b": {"c": None, "d": "Ada"},
        "e": {"f": None},
        "g": None,
    }
    assert compile_mapping(mapping, omit_none=True).apply({"first": "Ada"}) == {"b": {"d": "Ada"}}
    assert compile_mapping({"a.b": "nope"}, omit_none=True).apply({}) == {}


def test_apply_many_is_lazy():
    mapping = compile_mapping({"id": "id"})

    results = mapping.apply_many(iter([{"id": 1}, {"id": 2}]))

    assert not isinstance(results, list)
    assert list(results) == [{"id": 1}, {"id": 2}]


@pytest.mark.parametrize(
    ("mapping", "field", "fragment"),
    [
        ({"customer.email": "a..b"}, "customer.email", "customer.email: invalid JMESPath 'a..b': "),
        ({"x": "join(' ', "}, "x", "incomplete expression"),
        ({"x": "nope(a)"}, "x", "x: invalid JMESPath 'nope(a)': unknown function nope()"),
        ({"x": "{{ first ~ }}"}, "x", "x: invalid Jinja2 expression"),
        ({"x": "{% if %}"}, "x", "x: invalid Jinja2 expression"),
        ({"x": "=CRM"}, "x", "x: invalid JSON constant 'CRM'"),
        ({"x": ""}, "x", "x: the expression must be non-empty"),
        ({"a..b": "id"}, "a..b", "without empty parts"),
        ({"a": "id", "a.b": "id"}, "a.b", "conflicts with another target field at 'a'"),
        ({"a.b": "id", "a": "id"}, "a", "conflicts with another target field at 'a'"),
    ],
)
def test_compile_errors_name_the_field_and_expression(mapping, field, fragment):
    with pytest.raises(TranslationError) as caught:
        compile_mapping(mapping)

    assert caught.value.field == field
    assert caught.value.expression == mapping[field]
    assert fragment in str(caught.value)


def test_invalid_jmespath_message_says_what_and_where():
    with pytest.raises(TranslationError) as caught:
        compile_mapping({"customer.email": "a..b"})

    assert str(caught.value).startswith("customer.email: invalid JMESPath 'a..b': Expecting: ")
    assert str(caught.value).endswith("got: dot at column 2")
    assert caught.value.code == "invalid_expression"


def test_runtime_errors_name_the_field_and_expression():
    mapping = compile_mapping({"id": "id", "name": "join(' ', [first, id])"})

    with pytest.raises(TranslationError) as caught:
        mapping.apply(CONTACT)

    assert caught.value.field == "name"
    assert caught.value.expression == "join(' ', [first, id])"
    assert caught.value.code == "evaluation_error"
    assert str(caught.value).startswith("name: JMESPath \"join(' ', [first, id])\" failed: ")


def test_jinja_runtime_error_names_the_field():
    mapping = compile_mapping({"x": "{{ first + 1 }}"})

    with pytest.raises(TranslationError, match=r"^x: Jinja2 '\{\{ first \+ 1 \}\}' failed"):
        mapping.apply(CONTACT)


def test_a_record_must_be_an_object():
    with pytest.raises(TranslationError, match="A record is a JSON object, not list"):
        compile_mapping({"id": "id"}).apply([1, 2])


@pytest.mark.parametrize(
    "expression",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ record.__class__ }}",
        "{{ first.__class__.__base__.__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ 'x' * 100000000 }}",
    ],
)
def test_mapping_sandbox_violations_are_errors(expression):
    mapping = compile_mapping({"x": expression})

    with pytest.raises(TranslationError) as caught:
        mapping.apply(CONTACT)

    assert caught.value.code == "sandbox_violation"
    assert "not allowed in the sandbox" in str(caught.value)


# The generated fast path must give what the interpreters give, for every shape of JSON.

SHAPES = [
    {},
    {"a": None},
    {"a": 1},
    {"a": "text"},
    {"a": [1, 2]},
    {"a": {}},
    {"a": {"b": None}},
    {"a": {"b": [{"c": 1}]}},
    {"a": {"b": {"c": 0}}},
    {"a": {"b": {"c": {"d": "deep"}}}, "x": "X", "y": "Y"},
    {"a": {"b": "s"}, "x": None, "y": 3},
    {"x": "x", "y": "y", "@": 1},
]
PATHS = ["a", "a.b", "a.b.c", "a.b.c.d", "a.x", 'a."b"', "@", '`[1, {"k": 2}]`', "[a, x]"]


@pytest.mark.parametrize("record", SHAPES)
def test_fast_paths_match_jmespath(record):
    mapping = compile_mapping({f"f{i}": path for i, path in enumerate(PATHS)})

    result = mapping.apply(record)

    for i, path in enumerate(PATHS):
        assert result[f"f{i}"] == jmespath.search(path, record, JMESPATH_OPTIONS), path


@pytest.mark.parametrize(
    "record",
    [
        {"x": "a", "y": "b"},
        {"x": ["a"], "y": "b"},
        {"x": 1, "y": None},
        {"x": "a"},
        {},
        {"x": " Mixed Case ", "y": {"k": "v"}},
    ],
)
def test_fast_functions_and_jinja_match_their_interpreters(record):
    expressions = {
        "join": "join('-', [x, y])",
        "join_list": "join(',', x)",
        "upper": "upper(x)",
        "lower": "lower(x)",
        "trim": "trim(x)",
        "length": "length(x)",
        "not_null": "not_null(y, x, `0`)",
        "concat": "{{ x ~ '/' ~ y }}",
        "filters": "{{ x | upper ~ y | lower ~ x | trim ~ x | capitalize ~ y | string }}",
        "record": "{{ record }}",
        "constant": "{{ 'k' }}",
    }
    mapping = compile_mapping(expressions)

    for field in mapping.fields:
        try:
            expected = ("value", field.evaluate(record))
        except Exception as error:
            expected = ("error", type(error))
        try:
            actual = ("value", compile_mapping({"v": field.expression}).apply(record)["v"])
        except TranslationError as error:
            actual = ("error", type(error.__cause__))
        assert actual == expected, field.expression


# Templates ------------------------------------------------------------------


def test_json_template_renders_one_record():
    template = compile_template(
        '{"name": {{ (first ~ " " ~ last) | tojson }},'
        ' "email": {{ record | dig("contact.email") | tojson }},'
        ' "skus": {{ items | map(attribute="sku") | list | tojson }},'
        ' "vip": {{ vip | default(false) | tojson }}}'
    )

    body = template.render(CONTACT)

    assert json.loads(body) == {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "skus": ["A-1", "B-2"],
        "vip": False,
    }
    assert template.file_extension == "json"


def test_json_template_output_must_be_json():
    template = compile_template('{\n  "name": "{{ first }}",\n  "note": "{{ note }}"\n}')

    with pytest.raises(TranslationError) as caught:
        template.render({"first": "Ada", "note": 'say "hi"'})

    error = caught.value
    assert error.code == "invalid_output"
    assert (error.line, error.column) == (3, 17)
    assert "invalid JSON" in str(error)
    assert '"note": "say "hi""' in str(error)  # the excerpt


def test_xml_template_autoescapes_and_checks_well_formedness():
    template = compile_template(
        '<contact id="{{ id }}"><name>{{ name }}</name><raw>{{ json | tojson }}</raw></contact>',
        mime_type="application/xml",
    )

    body = template.render({"id": '1" x="2', "name": "Tom & <Jerry>", "json": {"a": "<b>"}})

    assert body == (
        '<contact id="1&#34; x=&#34;2"><name>Tom &amp; &lt;Jerry&gt;</name>'
        "<raw>{&#34;a&#34;: &#34;&lt;b&gt;&#34;}</raw></contact>"
    )
    assert parse_body(body, mime_type="application/xml") == {
        "contact": {"@id": '1" x="2', "name": "Tom & <Jerry>", "raw": '{"a": "<b>"}'}
    }
    assert template.file_extension == "xml"
    with pytest.raises(TranslationError, match="rendered invalid XML: mismatched tag") as caught:
        compile_template("<a>{{ x }}</b>", mime_type="text/xml").render({"x": 1})
    assert (caught.value.line, caught.value.code) == (1, "invalid_output")


def test_bulk_csv_template():
    template = compile_template(
        "id,name,city\n{% for r in records %}"
        "{{ [r.id, r | dig('name'), r | dig('address.city')] | csv_row }}\n"
        "{% endfor %}",
        mime_type="text/csv",
        bulk=True,
    )

    body = template.render_many(
        [{"id": 1, "name": 'Ada "the first", Countess', "address": {"city": "London"}}, {"id": 2}]
    )

    assert body == 'id,name,city\n1,"Ada ""the first"", Countess",London\n2,,\n'
    assert template.file_extension == "csv"
    assert parse_body(body, mime_type="text/csv") == [
        {"id": "1", "name": 'Ada "the first", Countess', "city": "London"},
        {"id": "2", "name": "", "city": ""},
    ]


def test_bulk_json_template_and_wrong_render_calls():
    bulk = compile_template(
        "[{% for r in records %}{{ r.id }}{{ ',' if not loop.last }}{% endfor %}]", bulk=True
    )
    single = compile_template("{{ id }}")

    assert json.loads(bulk.render_many([{"id": 1}, {"id": 2}])) == [1, 2]
    with pytest.raises(TranslationError, match="render_many"):
        bulk.render({"id": 1})
    with pytest.raises(TranslationError, match=r"render\(record\)"):
        single.render_many([{"id": 1}])


def test_text_template_is_not_checked_and_has_filters():
    template = compile_template(
        "{{ name }} <{{ when | date('%d/%m/%Y') }}> {{ when | date('iso') }} {{ 0 | date }}",
        mime_type="text/plain",
    )

    assert template.render({"name": "{not json", "when": "2024-05-17T10:21:33Z"}) == (
        "{not json <17/05/2024> 2024-05-17T10:21:33+00:00 1970-01-01"
    )
    assert template.file_extension == "txt"


def test_missing_variable_is_a_clear_error():
    template = compile_template('{\n"a": 1,\n"b": {{ email | tojson }}\n}')

    with pytest.raises(TranslationError) as caught:
        template.render({"first": "Ada"})

    assert caught.value.code == "undefined_variable"
    assert caught.value.line == 3
    assert str(caught.value).startswith(
        "The template uses an undefined value at line 3: 'email' is undefined"
    )


def test_syntax_error_gives_the_line():
    with pytest.raises(TranslationError) as caught:
        compile_template('{\n"a": {{ a }},\n"b": {% if %}\n}')

    assert caught.value.code == "template_syntax"
    assert caught.value.line == 3
    assert str(caught.value).startswith("Template syntax error at line 3: ")


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ record.__class__.__subclasses__() }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ joiner.__init__.__globals__['os'] }}",
        "{{ range.__self__ }}",
        "{{ 'a' * 1000000000 }}",
        "{{ 2 ** 100000000 }}",
        "{{ '{0.__class__}'.format(record) }}",
    ],
)
def test_sandbox_escapes_are_refused(source):
    template = compile_template(source, mime_type="text/plain")

    with pytest.raises(TranslationError) as caught:
        template.render({"a": 1})

    assert caught.value.code in {"sandbox_violation", "render_error", "undefined_variable"}
    assert "<class" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_media_types():
    assert media_type("application/vnd.api+json; charset=utf-8").kind == "json"
    assert media_type("application/atom+xml").file_extension == "xml"
    assert media_type("text/tab-separated-values").delimiter == "\t"
    assert media_type("TEXT/CSV; charset=latin-1").charset == "latin-1"
    assert media_type("application/x-www-form-urlencoded").file_extension == "txt"


# Parsing --------------------------------------------------------------------


def test_parse_json():
    assert parse_body(b'{"a": [1, 2]}', mime_type="application/json") == {"a": [1, 2]}
    assert parse_body('\ufeff{"a": 1}'.encode("utf-8"), mime_type="application/json") == {"a": 1}
    assert parse_body(b"  ", mime_type="application/json") is None


def test_parse_json_errors_say_where():
    with pytest.raises(TranslationError) as caught:
        parse_body('{\n  "a": 1,\n  "b": }', mime_type="application/json")

    assert (caught.value.line, caught.value.column, caught.value.code) == (3, 8, "parse_error")
    assert '"b": }\n       ^' in str(caught.value)
    with pytest.raises(TranslationError, match="NaN is not a JSON number"):
        parse_body('{"a": NaN}', mime_type="application/json")


def test_parse_xml_convention():
    body = b"""<?xml version="1.0" encoding="UTF-8"?>
    <response xmlns="urn:crm" xmlns:x="urn:x" status="ok">
      <contact id="1"><name> Ada </name><tag>a</tag><tag>b</tag><x:note/></contact>
      <contact id="2"><name>Grace</name></contact>
      <total currency="EUR">12.50</total>
    </response>"""

    assert parse_body(body, mime_type="text/xml; charset=utf-8") == {
        "response": {
            "@status": "ok",
            "contact": [
                {"@id": "1", "name": "Ada", "tag": ["a", "b"], "note": None},
                {"@id": "2", "name": "Grace"},
            ],
            "total": {"@currency": "EUR", "#text": "12.50"},
        }
    }


def test_parse_xml_errors():
    with pytest.raises(TranslationError) as caught:
        parse_body("<a>\n<b></a>", mime_type="application/xml")
    assert (caught.value.line, caught.value.column) == (2, 6)
    assert "mismatched tag" in str(caught.value)

    laughs = '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">]><l>&a;</l>'
    with pytest.raises(TranslationError, match="entity declarations are not accepted"):
        parse_body(laughs, mime_type="application/xml")


def test_parse_csv():
    assert parse_body(
        b'id,name\r\n1,Ada\r\n\r\n2,"Grace, Rear Admiral"\r\n3\r\n', mime_type="text/csv"
    ) == [
        {"id": "1", "name": "Ada"},
        {"id": "2", "name": "Grace, Rear Admiral"},
        {"id": "3", "name": None},
    ]
    assert parse_body("a\tb\n1\t2\n", mime_type="text/tab-separated-values") == [
        {"a": "1", "b": "2"}
    ]
    assert parse_body("Ciudad\nHabana\n".encode("latin-1"), mime_type="text/csv") == [
        {"Ciudad": "Habana"}
    ]
    assert parse_body(
        "Città\n".encode("latin-1") + b"Tor\xe9\n", mime_type="text/csv; charset=latin-1"
    ) == [{"Città": "Toré"}]
    assert parse_body(b"", mime_type="text/csv") == []


def test_parse_csv_errors():
    with pytest.raises(TranslationError, match="line 3 has 3 values for 2 columns") as caught:
        parse_body("a,b\n1,2\n1,2,3\n", mime_type="text/csv")
    assert caught.value.line == 3
    with pytest.raises(TranslationError, match="the header repeats 'a'"):
        parse_body("a,b,a\n1,2,3\n", mime_type="text/csv")
    with pytest.raises(TranslationError, match="not valid UTF-8"):
        parse_body(b"a\n\xff\n", mime_type="text/csv")


def test_parse_text_and_unsupported_types():
    assert parse_body(b"hello \xc3\xa9", mime_type="text/plain") == "hello é"
    with pytest.raises(TranslationError) as caught:
        parse_body(b"%PDF", mime_type="application/pdf")
    assert caught.value.code == "unsupported_mime_type"
