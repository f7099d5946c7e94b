"""The API's JSON parser: DRF's, with bounded depth and no lone surrogates (400, not 500)."""

from __future__ import annotations

import codecs

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from .. import jsonbounds


class JSONParser(parsers.JSONParser):
    """Every POST/PUT/PATCH body of the API: too deep or holding a lone surrogate is a 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            data = jsonbounds.loads(text)
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None
        if problem := jsonbounds.problem(data):
            raise ParseError(problem)
        return data
