"""Page-number pagination with a client-chosen page size (``?page_size=``)."""

from rest_framework import pagination
from rest_framework.exceptions import ValidationError


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request):
        """The asked page size; 400 for one that is not a whole number from 1 to the maximum."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: f"{raw!r}: give a whole number from 1 to "
                 f"{self.max_page_size}."}
            )  # fmt: skip
        return int(raw)
