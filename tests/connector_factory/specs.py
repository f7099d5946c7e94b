"""Specs the connector factory's tests start from."""

from __future__ import annotations

import copy


def contact_spec(base_url: str, *, name: str = "crm_demo", **auth) -> dict:
    """A CRM-like API: contacts imported and exported, page_number pagination."""
    return copy.deepcopy(
        {
            "name": name,
            "authorization": auth or {"type": "none"},
            "connection": {"base_url": base_url, "parameters": {}, "headers": {}},
            "resources": [
                {
                    "name": "contact",
                    "primary_key": "id",
                    "processes": ["import", "export"],
                    "import": {
                        "get_one": {"method": "GET", "path": "contacts/{{remote_id}}"},
                        "get_many": {"method": "GET", "path": "contacts"},
                        "records_path": "data",
                        "pagination": {
                            "type": "page_number",
                            "page_param": "page",
                            "size_param": "per_page",
                            "size": 100,
                            "has_more_path": "info.more_records",
                        },
                    },
                    "export": {
                        "create": {"method": "POST", "path": "contacts"},
                        "update": {"method": "PUT", "path": "contacts/{{remote_id}}"},
                    },
                }
            ],
        }
    )
